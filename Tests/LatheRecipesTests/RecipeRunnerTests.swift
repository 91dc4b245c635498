import Foundation
import Testing
@testable import LatheRecipes

/// Writes one file naming the stage and what it read; counts how often it ran.
final class FakeStage: StageExecutor {
    var runs = 0
    var fail = false
    struct Failure: Error {}

    func run(_ context: StageContext) throws -> StageReport {
        runs += 1
        if fail { throw Failure() }
        let upstream = context.upstream.keys.map(\.rawValue).sorted().joined(separator: ",")
        try "\(context.planned.stage.rawValue) after [\(upstream)]\n".write(
            toFile: context.outputDirectory + "/out.txt", atomically: false, encoding: .utf8)
        return StageReport(counts: ["records": 3], metrics: context.planned.stage == .evaluate ? ["acc": 0.5] : [:])
    }
}

@Suite struct RecipeRunnerTests {
    let environment = LineageEnvironment(codeVersion: CodeVersion(commit: "unknown", dirty: nil), threads: 1, blasThreads: 1)

    func run(_ project: TestProject, _ overrides: [String] = [], stages: [StageName: FakeStage]) throws -> [RunEvent] {
        let loaded = try project.load(TestProject.recipe(), overrides: overrides)
        var events: [RunEvent] = []
        try RecipeRunner(loaded: loaded, environment: environment).run(executors: stages) { events.append($0) }
        return events
    }

    func fakes() -> [StageName: FakeStage] {
        Dictionary(uniqueKeysWithValues: StageName.allCases.map { ($0, FakeStage()) })
    }

    func ran(_ events: [RunEvent]) -> [StageName] {
        events.compactMap { if case .started(let s, _) = $0 { return s }; return nil }
    }

    @Test func secondRunDoesNoWorkAndCleanChangeRerunsDownstream() throws {
        let project = try TestProject()
        defer { project.remove() }
        let stages = fakes()
        #expect(ran(try run(project, stages: stages)) == StageName.allCases)
        let again = try run(project, stages: stages)
        #expect(ran(again).isEmpty)
        #expect(again.allSatisfy { if case .cached = $0 { return true }; return false })
        #expect(stages.values.allSatisfy { $0.runs == 1 })
        #expect(ran(try run(project, ["train.lora.rank=4"], stages: stages)) == [.train, .evaluate, .export])
        #expect(ran(try run(project, ["clean.filters.min_chars=3"], stages: stages)) == StageName.allCases)
        #expect(stages[.clean]!.runs == 2 && stages[.tokenize]!.runs == 2 && stages[.train]!.runs == 3)
    }

    @Test func lineageRecordsEveryStageAndVerifies() throws {
        let project = try TestProject()
        defer { project.remove() }
        _ = try run(project, stages: fakes())
        let runDirectory = project.root + "/Checkpoints/tiny"
        let lineage = try Lineage.read(runDirectory + "/lineage.json")
        #expect(lineage.entries.map(\.stage) == StageName.allCases)
        #expect(lineage.entries[3].metrics["acc"] == 0.5 && lineage.entries[0].counts["records"] == 3)
        #expect(lineage.entries[0].config.contains("\"eval_fraction\":0.05"))
        #expect(try LineageVerifier.verify(runDirectory: runDirectory).isEmpty)
        // A cached re-run records the same hashes and still verifies.
        _ = try run(project, stages: fakes())
        #expect(try Lineage.read(runDirectory + "/lineage.json").entries.allSatisfy(\.cached))
        let cleaned = try #require(lineage.entries[0].outputs.first { $0.path.hasSuffix("out.txt") })
        try "edited by hand\n".write(toFile: runDirectory + "/" + cleaned.path, atomically: false, encoding: .utf8)
        let mismatches = try LineageVerifier.verify(runDirectory: runDirectory)
        #expect(mismatches.map(\.path).contains(cleaned.path))
    }

    @Test func failedStageLeavesNoOutputAndLaterStagesDoNotRun() throws {
        let project = try TestProject()
        defer { project.remove() }
        let stages = fakes()
        stages[.train]!.fail = true
        #expect(throws: FakeStage.Failure.self) { _ = try run(project, stages: stages) }
        #expect(stages[.evaluate]!.runs == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: project.root + "/Checkpoints/tiny/stages")
        #expect(names.sorted().map { String($0.prefix(6)) } == ["clean-", "tokeni"])
        stages[.train]!.fail = false
        #expect(ran(try run(project, stages: stages)) == [.train, .evaluate, .export])
    }
}
