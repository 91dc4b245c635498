import Foundation
import Testing
@testable import LatheRecipes

@Suite struct StageTests {
    func keys(_ project: TestProject, _ overrides: [String] = []) throws -> [StageName: String] {
        let plan = try StagePlanner.plan(try project.load(TestProject.recipe(), overrides: overrides), codeVersion: "test")
        return Dictionary(uniqueKeysWithValues: plan.stages.map { ($0.stage, $0.key) })
    }

    @Test func changingCleanRerunsItAndEverythingAfter() throws {
        let project = try TestProject()
        defer { project.remove() }
        let base = try keys(project)
        #expect(try keys(project) == base)   // deterministic
        let cleaned = try keys(project, ["clean.filters.min_chars=5"])
        for stage in StageName.allCases { #expect(cleaned[stage] != base[stage], "\(stage)") }
        let trained = try keys(project, ["train.lora.rank=4"])
        #expect(trained[.clean] == base[.clean] && trained[.tokenize] == base[.tokenize])
        #expect(trained[.train] != base[.train] && trained[.evaluate] != base[.evaluate] && trained[.export] != base[.export])
        let exported = try keys(project, ["export.dtype=f16"])
        #expect(exported[.train] == base[.train] && exported[.evaluate] == base[.evaluate] && exported[.export] != base[.export])
    }

    @Test func inputContentAndCodeVersionChangeKeys() throws {
        let project = try TestProject()
        defer { project.remove() }
        let base = try keys(project)
        try project.write("Datasets/tiny/train.jsonl", "{\"prompt\": \"3+3?\", \"completion\": \"6\"}\n")
        #expect(try keys(project)[.clean] != base[.clean])
        let loaded = try project.load(TestProject.recipe())
        let other = try StagePlanner.plan(loaded, codeVersion: "other")
        #expect(other.stage(.clean)?.key != (try keys(project))[.clean])
    }

    @Test func disabledStagesAreSkipped() throws {
        let project = try TestProject()
        defer { project.remove() }
        let plan = try StagePlanner.plan(try project.load(TestProject.recipe(), overrides: ["clean.enabled=false", "export.formats=[]"]),
                                         codeVersion: "test")
        #expect(plan.stage(.clean)?.enabled == false && plan.stage(.export)?.enabled == false)
        #expect(plan.stage(.tokenize)?.inputs.keys.contains("data/0") == true)
    }

    @Test func cacheMissThenHitAndFailureLeavesNothing() throws {
        let project = try TestProject()
        defer { project.remove() }
        let loaded = try project.load(TestProject.recipe())
        let plan = try StagePlanner.plan(loaded, codeVersion: "test")
        let clean = try #require(plan.stage(.clean))
        #expect(!clean.cached)
        let cache = StageCache(runDirectory: loaded.runDirectory)
        var runs = 0
        let first = try cache.produce(.clean, key: clean.key) { dir in
            runs += 1
            try "x".write(toFile: dir + "/cleaned.jsonl", atomically: false, encoding: .utf8)
        }
        #expect(first.outcome == .miss && first.directory == clean.directory)
        let second = try cache.produce(.clean, key: clean.key) { _ in runs += 1 }
        #expect(second.outcome == .hit && runs == 1)
        #expect(try StagePlanner.plan(loaded, codeVersion: "test").stage(.clean)?.cached == true)
        struct Boom: Error {}
        #expect(throws: Boom.self) { try cache.produce(.tokenize, key: "feed", { _ in throw Boom() }) }
        #expect(!cache.isCached(.tokenize, key: "feed"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: loaded.runDirectory + "/stages")
        #expect(leftovers == [URL(fileURLWithPath: clean.directory).lastPathComponent])
    }
}
