import Foundation
import LatheFormats
import Testing
@testable import LatheData

/// `Fixtures/chat_export.jsonl`: 44 chat records of a support-desk export and 6 broken lines. 35 records are
/// distinct (`d`: ordinary, two of them a bare "No." and "4" under a long shared system prompt; `t`: one answer
/// template about 8 different systems; `e`: short answers restating their question, three of them after a
/// 25-word question; `p`: one personal-data kind each). The rest are planted: `x` exact duplicates (one with
/// doubled spaces), `n` near duplicates (one word or punctuation changed).
enum ChatExport {
    static let url = fixture("chat_export.jsonl")
    static let distinct = (1...15).map { String(format: "d%02d", $0) } + (1...8).map { String(format: "t%02d", $0) }
        + (1...6).map { String(format: "e%02d", $0) } + (1...6).map { String(format: "p%02d", $0) }
    static let exactDuplicates = ["x01", "x02", "x03", "x04"]
    static let nearDuplicates = ["n01", "n02", "n03", "n04", "n05"]

    /// Runs the pipeline on the fixture; returns the kept ids in order, the rejections and the report.
    static func clean(_ config: CleaningConfig) throws -> (kept: [String], rejected: [JSONValue], report: CleanReport) {
        let out = temporaryFolder().appendingPathComponent("out")
        let report = try CleaningPipeline(config: config).run(inputs: [url.path], outputDirectory: out.path)
        let kept = readJSONL(out.appendingPathComponent("cleaned.jsonl")).compactMap { $0["id"]?.stringValue }
        return (kept, readJSONL(out.appendingPathComponent("rejected.jsonl")), report)
    }

    /// Ids of the records rejected with `code`.
    static func ids(_ rejected: [JSONValue], _ code: String) -> [String] {
        rejected.filter { $0["reason"]?.stringValue == code }.compactMap { $0["record"]?["id"]?.stringValue }
    }
}

@Test func defaultCleaningKeepsExactlyTheDistinctChatRecords() throws {
    let (kept, rejected, report) = try ChatExport.clean(CleaningConfig())
    #expect(kept == ChatExport.distinct)
    #expect(ChatExport.ids(rejected, "exact_duplicate") == ChatExport.exactDuplicates)
    #expect(ChatExport.ids(rejected, "near_duplicate") == ChatExport.nearDuplicates)
    let readErrors = rejected.filter { $0["step"]?.stringValue == "read" }.compactMap { $0["reason"]?.stringValue }
    #expect(Set(readErrors) == ["invalid_json", "not_an_object", "invalid_role", "unknown_format", "invalid_utf8", "truncated_line"])
    let sixKinds: [PIIType] = [.email, .phone, .creditCard, .iban, .ipAddress, .ssn]
    #expect(report.pii == Dictionary(uniqueKeysWithValues: sixKinds.map { ($0.rawValue, 1) }))
    #expect(report.recordsOut == 35)
    // Templated records share band keys: candidates are examined and kept apart; only the planted pairs join.
    let near = report.nearDuplicates
    #expect(near.jaccardThreshold == 0.8)
    #expect(near.confirmedPairs == 5 && near.clusters == 5 && near.rejectedPairs > 0)
    #expect(near.candidatePairs == near.confirmedPairs + near.rejectedPairs)
    let example = try #require(near.largestExample)
    #expect(example.size == 2 && example.jaccard >= 0.8 && !example.survivorText.isEmpty && !example.droppedText.isEmpty)
    #expect(report.summary.contains("candidate pairs") && report.summary.contains("largest cluster"))
}

@Test func unconfirmedBandingMergesTemplatedRecordsTheFixtureMustCatchIt() throws {
    var config = CleaningConfig()
    config.minHash?.jaccardThreshold = nil
    let (kept, _, _) = try ChatExport.clean(config)
    let templated = kept.filter { $0.hasPrefix("t") }
    #expect(templated.count < 8, "without confirmation, band collisions chain the templated records: \(templated)")
}

@Test func joinedTextRulesWouldDropAnswersThatRestateTheQuestion() throws {
    var config = CleaningConfig()
    config.instructionFilters.gopherRepetition?.eachField = false   // the whole record as one document
    let (_, rejected, _) = try ChatExport.clean(config)
    #expect(ChatExport.ids(rejected, "duplicated_5_n_grams") == ["e04", "e05", "e06"])
    // Forcing web rules on chat records drops nearly all of them (the length filter wants 50 words).
    let web = try ChatExport.clean(CleaningConfig(kind: .web))
    #expect(web.kept.count < 15)
    #expect(web.report.summary.contains("--kind instruction"), "the summary says how to keep short records")
}

@Test func recordKindFollowsTheFormatUnlessForced() {
    #expect(DataKind.of(.text) == .web)
    #expect([RecordFormat.chat, .promptCompletion, .alpaca].allSatisfy { DataKind.of($0) == .instruction })
    #expect(CleaningConfig().kind(of: .chat) == .instruction && CleaningConfig().kind(of: .text) == .web)
    #expect(CleaningConfig(kind: .web).kind(of: .chat) == .web)
}

@Test func gopherRulesCheckEachLongFieldOfAnInstructionRecord() {
    let question = "How do I export the quarterly report from Ledgerline to a spreadsheet for the audit team?"
    let answer = "To export the quarterly report from Ledgerline to a spreadsheet for the audit team, open Reports."
    let record = Record(content: .promptCompletion(prompt: question, completion: answer),
                        source: SourceLocation(file: "f", line: 1, byteOffset: 0))
    let document = FilterDocument(record)
    #expect(document.fields.map(\.label) == ["prompt", "completion"])
    #expect(document.words == document.fields[0].words + document.fields[1].words)
    let instruction = GopherRepetitionFilter(.init(kind: .instruction))
    #expect(instruction.check(document) == .keep)
    // A long looping answer is still caught, and the rejection names the field.
    let looping = Array(repeating: "Open the settings page and click save.", count: 12).joined(separator: "\n")
    let bad = FilterDocument(Record(content: .promptCompletion(prompt: question, completion: looping),
                                    source: SourceLocation(file: "f", line: 1, byteOffset: 0)))
    guard case .drop(let reason) = instruction.check(bad) else { Issue.record("a looping answer must be dropped"); return }
    #expect(reason.detail.hasPrefix("completion:"))
}

/// A chat record decoded from `(role, content)` turns, as the reader builds it.
func chatRecord(_ turns: [(String, String)]) throws -> Record {
    let messages = JSONValue.array(turns.map { .object(JSONObject([("role", .string($0.0)), ("content", .string($0.1))])) })
    return try RecordDecoder().decode(.object(JSONObject([("messages", messages)])), source: SourceLocation(file: "f", line: 1, byteOffset: 0)).get()
}

@Test func nearDuplicateTextLeavesOutTheSystemPrompt() throws {
    let content = try chatRecord([("system", "You are a helpful assistant."), ("user", "Hi"), ("assistant", "Hello!")]).content
    #expect(NearDuplicates.text(of: content) == "Hi\n\nHello!")
    #expect(NearDuplicates.text(of: try chatRecord([("system", "Only this.")]).content) == "Only this.")
}

@Test func confirmationComparesAgainstEveryClusterSharingABandKey() throws {
    // Three records under one band key: 0 is unrelated to 1 and 2, which are near duplicates of each other.
    let result = try NearDuplicates.cluster(count: 3, bands: 1, keys: [7, 7, 7], hasSignature: [true, true, true]) { a, b in
        a == 1 && b == 2
    }
    #expect(result.survivor == [0, 1, 1])
    #expect(result.candidatePairs == 3 && result.confirmedPairs == 1 && result.rejectedPairs == 2)
    let unchecked = try NearDuplicates.cluster(count: 3, bands: 1, keys: [7, 7, 7], hasSignature: [true, true, true])
    #expect(unchecked.survivor == [0, 0, 0])
}

@Test func shortTextRulesDropJunkButKeepShortAnswers() throws {
    func verdict(_ question: String, _ answer: String) throws -> String? {
        code(ShortTextFilter().check(FilterDocument(try chatRecord([("user", question), ("assistant", answer)]))))
    }
    #expect(try verdict("What is 2+2?", "4") == nil)
    #expect(try verdict("Is the plant open on Saturdays?", "No, no, no.") == nil)
    #expect(try verdict("What is the warranty of the Kestrel Vane?", "The warranty of the Kestrel Vane is two years.") == nil)
    #expect(try verdict("Where is the fire assembly point?", "?") == "no_words")
    #expect(try verdict("What is the Brindle logger code?", "!!! ### $$$ %%%") == "no_words")
    #expect(try verdict("zzzzzzzzzzzzzzzzzzzz", "Zzzzzz") == "letter_run")
    #expect(try verdict("Brrr, it is cold: www.example.com?", "Yes.") == nil)
    #expect(try verdict("buy now buy now buy now buy now", "buy now buy now buy now buy now") == "repeated_words")
    #expect(ShortTextFilter.letterRun("Aaaah") == 4 && ShortTextFilter.letterRun("committee") == 2)
}
