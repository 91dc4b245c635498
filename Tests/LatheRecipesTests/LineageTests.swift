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
        #expect(lineage.entries[0].inputs.first?.path == "Datasets/tiny/train.jsonl")
        #expect(lineage.entries[0].inputs.first?.anchor == .projectRoot)
        #expect(lineage.entries[0].outputs.first?.anchor == .runDirectory)
        #expect(lineage.header.runDirectory == "Checkpoints/tiny" && lineage.header.recipeFile == "Recipes/r.yaml")
        #expect(lineage.header.baseModel?.path == "Checkpoints/base/model.gguf")
        let text = try String(contentsOfFile: loaded.runDirectory + "/lineage.json", encoding: .utf8)
        #expect(!text.contains(project.root), "no absolute path of this machine in the record")
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

    /// The project (run directory and its inputs, same layout) moved elsewhere still verifies.
    @Test func copiedProjectVerifies() throws {
        let (project, loaded, _) = try recordedRun()
        let copy = NSTemporaryDirectory() + "lathe-copied-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: copy) }
        try FileManager.default.copyItem(atPath: project.root, toPath: copy)
        project.remove()
        let check = try LineageVerifier.check(runDirectory: copy + "/Checkpoints/tiny")
        #expect(check.mismatches.isEmpty && check.unlocated.isEmpty, "\(check)")
        #expect(check.matched == 3, "the data file, the cleaned file and the base model")
        try FileManager.default.removeItem(atPath: copy + "/Datasets/tiny/train.jsonl")
        let missing = try LineageVerifier.verify(runDirectory: copy + "/Checkpoints/tiny")
        #expect(missing.map(\.path) == ["Datasets/tiny/train.jsonl"] && missing[0].problem.contains("missing"))
    }

    /// A base model outside the project keeps its absolute path; where it is absent, verify names it by hash and
    /// still checks everything else.
    @Test func baseOutsideTheProjectIsIdentifiedByHash() throws {
        let project = try TestProject()
        defer { project.remove() }
        let models = NSTemporaryDirectory() + "lathe-models-\(UInt32.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: models) }
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try "GGUF shared base".write(toFile: models + "/shared.gguf", atomically: true, encoding: .utf8)
        let loaded = try project.load(TestProject.recipe().replacingOccurrences(of: "../Checkpoints/base/model.gguf", with: models + "/shared.gguf"))
        let header = try LineageHeader(loaded, environment: LineageEnvironment(codeVersion: CodeVersion(commit: "unknown", dirty: nil),
                                                                              threads: 1, blasThreads: 1))
        #expect(header.baseModel?.anchor == .absolute && header.baseModel?.path == models + "/shared.gguf")
        let recorder = try LineageRecorder(runDirectory: loaded.runDirectory, header: header)
        try recorder.record(stage: .tokenize, key: "k", cached: false, config: loaded.recipe.tokenize,
                            inputs: loaded.dataFiles + [loaded.baseModelPath])
        #expect(try LineageVerifier.check(runDirectory: loaded.runDirectory).unlocated.isEmpty)
        let hash = try FileHasher().hash(models + "/shared.gguf")
        try FileManager.default.removeItem(atPath: models)
        let check = try LineageVerifier.check(runDirectory: loaded.runDirectory)
        #expect(check.mismatches.isEmpty && check.matched == 1)
        #expect(check.unlocated.count == 1, "the header and the entry name the same file once")
        let line = check.unlocated.first?.description ?? ""
        #expect(line.contains("not found at recorded path; identified by sha256 \(hash)"), "\(line)")
        #expect(line.contains("shared.gguf"))
    }

    /// A lineage record comes from outside when an auditor receives it; one naming a device (/dev/zero) or a pipe is
    /// a mismatch, where hashing it would never end.
    @Test func aRecordNamingADeviceIsAMismatchNotAnEndlessRead() throws {
        let (project, loaded, _) = try recordedRun()
        defer { project.remove() }
        let path = loaded.runDirectory + "/lineage.json"
        var lineage = try Lineage.read(path)
        lineage.entries[0].inputs.append(FileRecord(path: "/dev/zero", sha256: String(repeating: "0", count: 64), bytes: 0,
                                                    anchor: .absolute))
        try lineage.write(path)
        let check = try LineageVerifier.check(runDirectory: loaded.runDirectory)
        #expect(check.mismatches.contains { $0.path == "/dev/zero" && $0.problem.contains("not a regular file or directory") },
                "\(check.mismatches)")
    }

    /// A record naming `/`, the project root or a symbolic link to one of them would have `lathe verify` hash the
    /// whole disk or the run itself: it is a mismatch, named, and nothing under it is read.
    @Test func aRecordNamingADirectoryThatHoldsTheRunIsAMismatchNotADiskWalk() throws {
        let (project, loaded, _) = try recordedRun()
        defer { project.remove() }
        let path = loaded.runDirectory + "/lineage.json"
        let link = project.root + "/Datasets/looks-like-data"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: project.root)
        var lineage = try Lineage.read(path)
        let zeros = String(repeating: "0", count: 64)
        lineage.entries[0].inputs += [FileRecord(path: "/", sha256: zeros, bytes: 0, anchor: .absolute),
                                      FileRecord(path: ".", sha256: zeros, bytes: 0, anchor: .projectRoot),
                                      FileRecord(path: "Datasets/looks-like-data", sha256: zeros, bytes: 0, anchor: .projectRoot)]
        try lineage.write(path)
        let check = try LineageVerifier.check(runDirectory: loaded.runDirectory)
        let refused = check.mismatches.filter { $0.problem.contains("holds the run directory itself") }.map(\.path)
        #expect(refused == ["/", ".", "Datasets/looks-like-data"], "\(check.mismatches)")
        #expect(check.matched == 3, "the other files are still checked")
        #expect(!LineageVerifier.holdsRun(loaded.runDirectory + "/stages", loaded.runDirectory))
        let sibling = String(loaded.runDirectory.dropLast())   // Checkpoints/tin: a prefix of the name, not a parent
        try FileManager.default.createDirectory(atPath: sibling, withIntermediateDirectories: true)
        #expect(!LineageVerifier.holdsRun(sibling, loaded.runDirectory))
        #expect(LineageVerifier.holdsRun(sibling + "/..", loaded.runDirectory))
    }

    /// The project root of a run wherever it now lies: as many trailing components dropped as the record's
    /// `run_directory` has, never past `/`, and none for a format-1 record.
    @Test func projectRootDropsTheRecordedRunDirectorysDepth() throws {
        let (project, loaded, _) = try recordedRun()
        defer { project.remove() }
        var header = try Lineage.read(loaded.runDirectory + "/lineage.json").header
        #expect(header.projectRoot(of: "/copy/of/project/Checkpoints/tiny") == "/copy/of/project")
        #expect(header.projectRoot(of: "/copy/./of/../Checkpoints/tiny/") == "/copy")
        header.runDirectory = String(repeating: "a/", count: 100_000)
        #expect(header.projectRoot(of: "/copy/Checkpoints/tiny") == "/")
        header.runDirectory = nil
        #expect(header.projectRoot(of: "/copy/Checkpoints/tiny") == nil)
    }

    /// A directory that holds a named pipe hashes to an error naming the pipe, not an endless read: the rule lives
    /// in `FileHasher.hash`, which recording and `lathe verify` both call.
    @Test func aPipeInsideAHashedDirectoryIsRefused() throws {
        let directory = NSTemporaryDirectory() + "lathe-pipe-\(UInt32.random(in: 0 ... .max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("weights".utf8).write(to: URL(fileURLWithPath: directory + "/a.bin"))
        #expect(mkfifo(directory + "/b.fifo", 0o600) == 0)
        #expect(throws: FileHasher.NotAFile.self) { try FileHasher().hash(directory) }
        #expect(throws: FileHasher.NotAFile.self) { try FileHasher().hash(directory + "/b.fifo") }
        #expect(try FileHasher().hash(directory + "/a.bin").count == 64)
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
            dataSources: [DataSourceSummary(file: FileRecord(path: "Datasets/tiny/train.jsonl", sha256: "ab", bytes: 9, anchor: .projectRoot), records: 1)],
            cleaningDecisions: [("exact dedup", 0), ("PII redaction (email)", 2)], trainRecords: 1, heldOutRecords: 0,
            evaluation: [EvaluationRow(task: "tiny", metric: "acc", base: 0.25, adapter: 0.5, changeStandardError: 0.07)]))
        #expect(card.contains("# Model card: tiny"))
        #expect(card.contains("| tiny | acc | 0.2500 | 0.5000 | +0.2500 ± 0.0700 |"))
        #expect(card.contains("| PII redaction (email) | 2 |"))
        #expect(card.contains("## Intended use") && card.contains("## Limitations and risks"))
        #expect(card.contains("OpenBLAS test"))
        #expect(card.contains("| `Datasets/tiny/train.jsonl` | 1 | `ab` |"))
        #expect(card.contains("| base model | `Checkpoints/base/model.gguf` ("), "the base model is named with its hash")
    }

    /// The package checkout this test was built from (its `.git` may be absent in a source tarball).
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: checkout + "/.git"),
                   "the package is not a git checkout (no .git): codeVersionFromPackedRefsAndAbsence covers the reader"))
    func codeVersionFromThisCheckout() throws {
        let version = CodeVersion.read(from: Self.checkout)
        #expect(version.commit.count == 40 && version.commit.allSatisfy(\.isHexDigit), "\(version)")
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
