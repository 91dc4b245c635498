import Foundation
import Testing
@testable import LatheRecipes

@Suite struct LineageTests {
    /// A run with clean and export stages recorded; returns the project, loaded recipe and cleaned file path.
    func recordedRun() throws -> (TestProject, LoadedRecipe, String) {
        let project = try TestProject()
        let loaded = try project.load(TestProject.recipe())
        let plan = try StagePlanner.plan(loaded, codeVersion: "test")
        let environment = LineageEnvironment(codeVersion: CodeVersion(commit: "unknown", dirty: nil),
                                             openblasVersion: "OpenBLAS test", threads: 2, blasThreads: 1)
        let recorder = try LineageRecorder(runDirectory: loaded.runDirectory, header: LineageHeader(loaded, environment: environment))
        let cache = StageCache(runDirectory: loaded.runDirectory)
        let clean = try #require(plan.stage(.clean))
        let out = try cache.produce(.clean, key: clean.key) { dir in
            try "{\"prompt\":\"2+2?\",\"completion\":\"4\"}\n".write(toFile: dir + "/cleaned.jsonl", atomically: false, encoding: .utf8)
        }
        try recorder.record(stage: .clean, key: clean.key, cached: false, config: loaded.recipe.clean,
                            inputs: loaded.dataFiles, outputDirectory: out.directory, counts: ["kept": 1, "dropped.dedup": 0])
        try recorder.record(stage: .export, key: "k", cached: false, config: loaded.recipe.export,
                            inputs: [out.directory, loaded.baseModelPath], metrics: ["eval_loss": 1.25])
        return (project, loaded, out.directory + "/cleaned.jsonl")
    }

    @Test func untouchedRunVerifies() throws {
        let (project, loaded, _) = try recordedRun()
        defer { project.remove() }
        #expect(try LineageVerifier.verify(runDirectory: loaded.runDirectory).isEmpty)
        let lineage = try Lineage.read(loaded.runDirectory + "/lineage.json")
        #expect(lineage.entries.count == 2)
        #expect(lineage.entries[0].outputs.first?.path.hasPrefix("stages/clean-") == true)
        #expect(lineage.entries[0].inputs.first?.path == project.root + "/Datasets/tiny/train.jsonl")
        #expect(lineage.header.environment.zstdVersion.split(separator: ".").count == 3)
    }

    @Test func handEditedCleanedDataIsReported() throws {
        let (project, loaded, cleaned) = try recordedRun()
        defer { project.remove() }
        try "{\"prompt\":\"2+2?\",\"completion\":\"5\"}\n".write(toFile: cleaned, atomically: false, encoding: .utf8)
        let mismatches = try LineageVerifier.verify(runDirectory: loaded.runDirectory)
        #expect(mismatches.count == 1)
        #expect(mismatches.first?.path.hasSuffix("/cleaned.jsonl") == true)
        #expect(mismatches.first?.problem.contains("content changed") == true)
        try FileManager.default.removeItem(atPath: cleaned)
        #expect(try LineageVerifier.verify(runDirectory: loaded.runDirectory).first?.problem.contains("missing") == true)
    }

    @Test func editedLineageBreaksTheChain() throws {
        let (project, loaded, _) = try recordedRun()
        defer { project.remove() }
        let path = loaded.runDirectory + "/lineage.json"
        var lineage = try Lineage.read(path)
        lineage.entries[0].counts["kept"] = 100
        try lineage.write(path)
        let mismatches = try LineageVerifier.verify(runDirectory: loaded.runDirectory)
        #expect(mismatches.contains { $0.path == "lineage.json" && $0.problem.contains("entry 1") })
        lineage.header.seed = 999
        try lineage.write(path)
        #expect(try LineageVerifier.verify(runDirectory: loaded.runDirectory).contains { $0.problem.contains("entry 0") })
    }

    @Test func missingRecordIsExplained() throws {
        #expect(throws: RecipeError.self) { try LineageVerifier.verify(runDirectory: NSTemporaryDirectory() + "lathe-none-\(UInt32.random(in: 0 ... .max))") }
    }

    @Test func modelCardHasTheSections() throws {
        let (project, loaded, _) = try recordedRun()
        defer { project.remove() }
        let lineage = try Lineage.read(loaded.runDirectory + "/lineage.json")
        let card = ModelCard.markdown(lineage: lineage, summaries: ModelCardSummaries(
            dataSources: [DataSourceSummary(path: "Datasets/tiny/train.jsonl", sha256: "ab", records: 1)],
            cleaningDecisions: [("exact dedup", 0), ("PII redaction (email)", 2)], trainRecords: 1, heldOutRecords: 0,
            evaluation: [EvaluationRow(task: "tiny", metric: "acc", base: 0.25, adapter: 0.5, changeStandardError: 0.07)]))
        #expect(card.contains("# Model card: tiny"))
        #expect(card.contains("| tiny | acc | 0.2500 | 0.5000 | +0.2500 ± 0.0700 |"))
        #expect(card.contains("| PII redaction (email) | 2 |"))
        #expect(card.contains("## Intended use") && card.contains("## Limitations and risks"))
        #expect(card.contains("OpenBLAS test"))
    }

    @Test func codeVersionFromThisCheckout() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: root.path + "/.git") else { return }
        let version = CodeVersion.read(from: root.path)
        #expect(version.commit.count == 40)
        #expect(version.dirty != nil)
    }

    @Test func codeVersionFromPackedRefsAndAbsence() throws {
        let dir = NSTemporaryDirectory() + "lathe-git-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/.git", withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(toFile: dir + "/.git/HEAD", atomically: false, encoding: .utf8)
        let commit = String(repeating: "ab", count: 20)
        try "# pack-refs with: peeled\n\(commit) refs/heads/main\n".write(toFile: dir + "/.git/packed-refs", atomically: false, encoding: .utf8)
        let version = CodeVersion.read(from: dir)
        #expect(version == CodeVersion(commit: commit, dirty: nil))
        #expect(version.description == commit + "-unknown-state")
        #expect(CodeVersion(commit: "unknown", dirty: nil).description == "unknown")
    }
}
