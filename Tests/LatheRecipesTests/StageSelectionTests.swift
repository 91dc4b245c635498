import Foundation
import Testing
@testable import LatheRecipes

/// `RecipeRunner.run(selection:)`: `.until` stops after a stage, `.only` runs one stage from cached upstream outputs
/// and names the first missing one; only a complete run writes `lineage.json`.
@Suite struct StageSelectionTests {
    let environment = LineageEnvironment(codeVersion: CodeVersion(commit: "unknown", dirty: nil), threads: 1, blasThreads: 1)

    func run(_ project: TestProject, _ selection: StageSelection, _ stages: [StageName: FakeStage]) throws -> [StageName] {
        let loaded = try project.load(TestProject.recipe())
        var started: [StageName] = []
        try RecipeRunner(loaded: loaded, environment: environment).run(executors: stages, selection: selection) {
            if case .started(let stage, _) = $0 { started.append(stage) }
        }
        return started
    }

    @Test func untilAndOnlySelectStagesAndNameTheMissingUpstream() throws {
        let project = try TestProject()
        defer { project.remove() }
        let stages = Dictionary(uniqueKeysWithValues: StageName.allCases.map { ($0, FakeStage()) })
        do {
            _ = try run(project, .only(.train), stages)
            Issue.record("--only train without cached upstream stages must fail")
        } catch let RecipeError.run(_, message) {
            #expect(message.contains("clean stage") && message.contains("--until clean"), "\(message)")
        }
        #expect(try run(project, .until(.tokenize), stages) == [.clean, .tokenize])
        #expect(!FileManager.default.fileExists(atPath: project.root + "/Checkpoints/tiny/lineage.json"))
        do {
            _ = try run(project, .only(.evaluate), stages)
            Issue.record("--only evaluate before train must fail")
        } catch let RecipeError.run(_, message) {
            #expect(message.contains("train stage") && message.contains("--until train"), "\(message)")
        }
        #expect(try run(project, .only(.train), stages) == [.train])
        #expect(try run(project, .only(.evaluate), stages) == [.evaluate])
        #expect(try run(project, .all, stages) == [.export])
        #expect(StageName.allCases.allSatisfy { stages[$0]!.runs == 1 })
        #expect(FileManager.default.fileExists(atPath: project.root + "/Checkpoints/tiny/lineage.json"))
    }
}
