import Foundation
import Testing
import LatheFormats
@testable import LatheData

/// Cleaning under a memory budget: a budget of a few KB forces many spilled sort runs, and every output must
/// equal the unbounded run's byte for byte, with no temporary file left behind.

/// Runs `config` on `inputs` with no budget and with `budget` bytes; returns both output folders and reports.
private func cleanTwice(_ inputs: [URL], _ config: CleaningConfig, budget: Int = 4096, evaluationTexts: [String] = [],
                        in dir: URL) throws -> (unbounded: URL, budgeted: URL, report: CleanReport, spilled: CleanReport) {
    var unbounded = config, budgeted = config
    unbounded.memoryBudget = .max
    budgeted.memoryBudget = budget
    let a = dir.appendingPathComponent("unbounded"), b = dir.appendingPathComponent("budgeted")
    let report = try CleaningPipeline(config: unbounded).run(inputs: inputs.map(\.path), outputDirectory: a.path,
                                                             evaluationTexts: evaluationTexts)
    let spilled = try CleaningPipeline(config: budgeted).run(inputs: inputs.map(\.path), outputDirectory: b.path,
                                                             evaluationTexts: evaluationTexts)
    return (a, b, report, spilled)
}

/// Every file of `a` equals the same file of `b`, and both hold exactly `names`.
private func expectIdentical(_ a: URL, _ b: URL, names: Set<String>) throws {
    let listA = Set(try FileManager.default.contentsOfDirectory(atPath: a.path))
    let listB = Set(try FileManager.default.contentsOfDirectory(atPath: b.path))
    #expect(listA == names, "unbounded run left \(listA.subtracting(names))")
    #expect(listB == names, "budgeted run left \(listB.subtracting(names))")
    for name in names.sorted() {
        let bytesA = try #require(FileManager.default.contents(atPath: a.appendingPathComponent(name).path))
        let bytesB = try #require(FileManager.default.contents(atPath: b.appendingPathComponent(name).path))
        #expect(bytesA == bytesB, "\(name) differs between the unbounded and the budgeted run")
    }
}

private let outputs: Set<String> = ["cleaned.jsonl", "rejected.jsonl", "clean_report.json"]
private let splitOutputs = outputs.union(["train.jsonl", "eval.jsonl"])

@Test func chatExportCleansIdenticallyUnderATinyBudget() throws {
    let dir = temporaryFolder()
    let run = try cleanTwice([fixture("chat_export.jsonl")], CleaningConfig(), budget: 1024, in: dir)
    #expect(run.spilled.spilledRuns > 4, "a 1 KB budget must spill (\(run.spilled.spilledRuns) runs)")
    #expect(run.report.spilledRuns == 0)
    #expect(run.report.nearDuplicates.recordsDropped > 0 && run.report.nearDuplicates.rejectedPairs > 0)
    try expectIdentical(run.unbounded, run.budgeted, names: outputs)
}

@Test func csvWithAStratifiedSplitCleansIdenticallyUnderATinyBudget() throws {
    let dir = temporaryFolder()
    var config = CleaningConfig(kind: .instruction)
    config.updateFilters { $0.removeAll() }
    config.fields = ["prompt": "question", "completion": "answer"]
    config.split = SplitConfig(evalFraction: 0.5, stratifyField: "category", seed: 3)
    let run = try cleanTwice([fixture("tickets.csv")], config, budget: 1024, in: dir)
    #expect(run.report.recordsOut == 2 && run.report.split?.values.reduce(0, +) == 2)
    try expectIdentical(run.unbounded, run.budgeted, names: splitOutputs)
}

/// Documents with planted exact copies, near copies (two words changed), copies of evaluation texts and a
/// stratum field; a few unreadable lines.
private func plantedCorpus(_ url: URL) throws -> [String] {
    var rng = seededGenerator(17)
    var originals: [String] = [], lines: [String] = []
    for i in 0..<360 {
        let topic = ", \"topic\": \"t\(i % 3)\""
        switch i % 12 {
        case 3 where !originals.isEmpty:
            lines.append(textLine(originals[Int(rng.next() % UInt64(originals.count))], extra: topic))
        case 5, 9 where !originals.isEmpty:
            var words = originals[Int(rng.next() % UInt64(originals.count))].split(separator: " ").map(String.init)
            for _ in 0..<2 { words[Int(rng.next() % UInt64(words.count))] = syntheticWord(Int(rng.next() % 5000)) }
            lines.append(textLine(words.joined(separator: " "), extra: topic))
        case 11:
            lines.append(i % 24 == 11 ? "{\"text\": broken" : textLine("Too short.", extra: topic))
        default:
            let text = prose(120, seed: UInt64(1000 + i))
            originals.append(text)
            lines.append(textLine(text, extra: topic))
        }
    }
    try writeJSONL(lines, to: url)
    return [originals[4], originals[40], originals[100]]
}

@Test func plantedDuplicatesCleanIdenticallyUnderATinyBudget() throws {
    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("planted.jsonl")
    let evaluation = try plantedCorpus(input)
    var config = CleaningConfig()
    config.split = SplitConfig(evalFraction: 0.2, stratifyField: "topic")
    let run = try cleanTwice([input], config, evaluationTexts: evaluation, in: dir)
    let exact = run.report.steps.first { $0.name == "exact_dedup" }.map { $0.recordsIn - $0.recordsOut } ?? 0
    let contaminated = run.report.reasons["decontamination"]?["contaminated"] ?? 0
    #expect(exact >= 20 && run.report.nearDuplicates.recordsDropped >= 40 && contaminated >= 3,
            "planted: exact \(exact), near \(run.report.nearDuplicates.recordsDropped), contaminated \(contaminated)")
    #expect(run.spilled.spilledRuns > 20, "\(run.spilled.spilledRuns) runs")
    #expect((run.report.split?["eval"] ?? 0) > 10 && (run.report.split?["train"] ?? 0) > 100, "\(run.report.split ?? [:])")
    try expectIdentical(run.unbounded, run.budgeted, names: splitOutputs)

    // Without confirmation (every candidate pair joined) and without exact dedup the clusters differ; still identical.
    config.minHash?.jaccardThreshold = nil
    config.exactDedup = false
    let loose = try cleanTwice([input], config, budget: 2048, evaluationTexts: evaluation, in: dir.appendingPathComponent("loose"))
    try expectIdentical(loose.unbounded, loose.budgeted, names: splitOutputs)
}

@Test func aFailedRunLeavesNoTemporaryFiles() throws {
    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("bad.jsonl")
    try writeJSONL((0..<200).map { $0 % 2 == 0 ? "not json \($0)" : textLine(prose(60, seed: UInt64($0))) }, to: input)
    var config = CleaningConfig(kind: .instruction)
    config.maxBadFraction = 0.2
    config.memoryBudget = 1024
    let out = dir.appendingPathComponent("o")
    #expect(throws: DataError.self) { try CleaningPipeline(config: config).run(inputs: [input.path], outputDirectory: out.path) }
    let left = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix(".lathe-spill") }
    #expect(left.isEmpty, "\(left)")
}

@Test func memoryBudgetsParseWithUnitsAndBadOnesNameTheFix() throws {
    #expect(try MemoryBudget.parse("512M") == 512 << 20)
    #expect(try MemoryBudget.parse("2G") == 2 << 30)
    #expect(try MemoryBudget.parse("2GiB") == 2 << 30)
    #expect(try MemoryBudget.parse("1.5g") == 3 << 29)
    #expect(try MemoryBudget.parse("4096B") == 4096)
    #expect(try MemoryBudget.parse("64k") == 64 << 10)
    #expect(try MemoryBudget.parse("512") == 512 << 20)
    for bad in ["lots", "12Q", "", "M", "-5M", "1e400"] {
        #expect(throws: DataError.self) { try MemoryBudget.parse(bad) }
        do { _ = try MemoryBudget.parse(bad, key: "--memory-budget") } catch {
            #expect(error.description.contains("--memory-budget") && error.description.contains("512M"), "\(error)")
        }
    }
    do { _ = try MemoryBudget.parse("100B") } catch { #expect(error.description.contains("minimum of 1024 bytes")) }
    #expect(MemoryBudget.defaultBytes >= 64 << 20)
    var config = CleaningConfig()
    config.memoryBudget = 10
    #expect(throws: DataError.invalidConfig(key: "memory_budget", reason: "10 bytes is under the minimum of 1024 bytes")) {
        try config.validate()
    }
}

@Test func spillSorterMergesManyRunsInOrderAndRemovesThem() throws {
    let dir = temporaryFolder()
    let spill = SpillDirectory(path: dir.path)
    let budget = SpillBudget(limit: 1024)   // 128 values per run: 40,000 values make ~300 runs, over the fan-in
    let sorter = SpillSorter<UInt64>("test", budget: budget, directory: spill)
    var rng = seededGenerator(5)
    var values: [UInt64] = []
    for _ in 0..<40_000 { let v = rng.next() % 10_000; values.append(v); try sorter.append(v) }
    #expect(budget.runsWritten > SpillSorter<UInt64>.fanIn)
    let stream = try sorter.sorted()
    var merged: [UInt64] = []
    while let v = try stream.next() { merged.append(v) }
    #expect(merged == values.sorted())
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
}
