import Foundation
import Testing
import LatheFormats
@testable import LatheData

func writeJSONL(_ objects: [String], to url: URL) throws {
    try Data((objects.joined(separator: "\n") + "\n").utf8).write(to: url)
}

func textLine(_ text: String, extra: String = "") -> String {
    JSONValue.object(JSONObject([("text", .string(text))])).serialized().dropLast() + extra + "}"
}

@Test func pipelineWritesCleanedRejectedAndReport() throws {
    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("in.jsonl")
    let a = prose(150, seed: 1), b = prose(150, seed: 2), c = prose(150, seed: 3)
    var nearA = a.split(separator: " ").map(String.init)
    nearA[70] = "changed"
    var lines = [textLine(a), textLine(b), textLine(a),                    // exact duplicate of line 1
                 textLine(nearA.joined(separator: " ")),                  // near duplicate of line 1
                 textLine("Too short."),                                  // length filter
                 textLine(c + " Mail me at jane@example.com or call +44 20 7946 0958."),
                 "[1, 2]", "{\"text\": \"broken"]
    lines.append(textLine(prose(150, seed: 4)))
    try writeJSONL(lines, to: input)
    let out = dir.appendingPathComponent("out")
    var events: [CleaningProgress.Stage] = []
    let report = try CleaningPipeline(config: CleaningConfig()).run(inputs: [input.path], outputDirectory: out.path) {
        events.append($0.stage)
    }
    #expect(events.first == .reading && events.last == .done)
    let cleaned = readJSONL(out.appendingPathComponent("cleaned.jsonl"))
    #expect(cleaned.count == 4)
    #expect(cleaned.contains { $0["text"]?.stringValue?.hasSuffix("Mail me at <EMAIL> or call <PHONE>.") == true })
    let rejected = readJSONL(out.appendingPathComponent("rejected.jsonl"))
    let reasons = Dictionary(uniqueKeysWithValues: rejected.map { ($0["line"]!.scalarText!, $0["reason"]!.stringValue!) })
    #expect(reasons == ["3": "exact_duplicate", "4": "near_duplicate", "5": "too_few_chars", "7": "not_an_object", "8": "invalid_json"])
    #expect(report.recordsIn == 7 && report.recordsOut == 4)
    #expect(report.inputs.first?.badLines == 2)
    #expect(report.pii["email"] == 1 && report.pii["phone"] == 1)
    #expect(report.nearDuplicates.clusters == 1)
    #expect(report.steps.map(\.name) == ["read", "filter:length", "filter:short_text", "filter:gopher_quality", "filter:gopher_repetition",
                                         "exact_dedup", "decontamination", "near_dedup"])
    #expect(report.steps.last?.recordsOut == 4)
    let data = try #require(FileManager.default.contents(atPath: out.appendingPathComponent("clean_report.json").path))
    let decoded = try JSONDecoder().decode(CleanReport.self, from: data)
    #expect(decoded.recordsOut == 4)
    #expect(report.summary.contains("7 records read (2 unreadable lines), 4 kept."))
    #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent(".cleaned.staging").path))
}

@Test func tooManyBadLinesAbortsWithATypedError() throws {
    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("bad.jsonl")
    try writeJSONL((0..<200).map { $0 % 2 == 0 ? "not json \($0)" : textLine("fine \($0)") }, to: input)
    var config = CleaningConfig(kind: .instruction)
    config.maxBadFraction = 0.2
    #expect(throws: DataError.self) {
        try CleaningPipeline(config: config).run(inputs: [input.path], outputDirectory: dir.appendingPathComponent("o").path)
    }
    config.maxBadFraction = 0.6
    let report = try CleaningPipeline(config: config).run(inputs: [input.path], outputDirectory: dir.appendingPathComponent("o2").path)
    #expect(report.inputs[0].badLines == 100)
}

@Test func decontaminationDropsTrainingCopiesOfEvalItems() throws {
    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("train.jsonl")
    let evalText = prose(100, seed: 500)
    try writeJSONL([textLine(prose(100, seed: 501)), textLine(evalText + " Extra."), textLine(prose(100, seed: 502))], to: input)
    let report = try CleaningPipeline(config: CleaningConfig()).run(
        inputs: [input.path], outputDirectory: dir.appendingPathComponent("o").path, evaluationTexts: [evalText])
    #expect(report.reasons["decontamination"]?["contaminated"] == 1)
    #expect(report.recordsOut == 2)
}

@Test func chatRecordsKeepTheirShapeAndExtraFields() throws {
    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("chat.jsonl")
    try writeJSONL([#"{"id": 1, "messages": [{"role": "user", "content": "What  is   LoRA?"}, {"role": "assistant", "content": "A low-rank adapter for fine-tuning."}]}"#], to: input)
    let out = dir.appendingPathComponent("o")
    try CleaningPipeline(config: CleaningConfig(kind: .instruction)).run(inputs: [input.path], outputDirectory: out.path)
    let line = try String(contentsOf: out.appendingPathComponent("cleaned.jsonl"), encoding: .utf8)
    #expect(line == #"{"messages":[{"role":"user","content":"What is LoRA?"},{"role":"assistant","content":"A low-rank adapter for fine-tuning."}],"id":1}"# + "\n")
}

@Test func splitIsDeterministicStableAndStratified() throws {
    let hashes = (0..<2000).map { Hash64.hash("record \($0)") }
    let first = Splitter.assign(hashes: hashes, strata: nil, fraction: 0.1)
    let more = Splitter.assign(hashes: hashes + (0..<500).map { Hash64.hash("new \($0)") }, strata: nil, fraction: 0.1)
    #expect(Array(more.prefix(2000)) == first)
    let share = Double(first.filter { $0 }.count) / 2000
    #expect(share > 0.08 && share < 0.12)
    let strata = (0..<2000).map { $0 < 100 ? 1 : 0 }   // a small stratum of 100
    let stratified = Splitter.assign(hashes: hashes, strata: strata, fraction: 0.1)
    #expect(stratified.prefix(100).filter { $0 }.count == 10)
    #expect(stratified.suffix(1900).filter { $0 }.count == 190)

    let dir = temporaryFolder()
    let input = dir.appendingPathComponent("s.jsonl")
    try writeJSONL((0..<60).map { textLine("Question number \($0) about topic \($0 % 3)?", extra: ",\"topic\":\"t\($0 % 3)\"") }, to: input)
    var config = CleaningConfig(kind: .instruction)
    config.minHash = nil
    config.split = SplitConfig(evalFraction: 0.2, stratifyField: "topic")
    let out = dir.appendingPathComponent("o")
    let report = try CleaningPipeline(config: config).run(inputs: [input.path], outputDirectory: out.path)
    #expect(report.split == ["train": 48, "eval": 12])
    let eval = readJSONL(out.appendingPathComponent("eval.jsonl"))
    #expect(Dictionary(grouping: eval) { $0["topic"]!.stringValue! }.mapValues(\.count) == ["t0": 4, "t1": 4, "t2": 4])
}
