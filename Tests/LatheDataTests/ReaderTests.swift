import Foundation
import Testing
import LatheFormats
@testable import LatheData

/// Collects every item of a source, decoding JSONL lines.
func items(_ path: String, maxRecordBytes: Int = 16 << 20, decoder: RecordDecoder = RecordDecoder()) throws -> [SourceItem] {
    let source = try RecordSources.open(path, maxRecordBytes: maxRecordBytes, textMode: .paragraph)
    (source as? any RecordDecodingSource)?.decoder = decoder
    var all: [SourceItem] = []
    while true {
        let batch = try source.nextBatch(maxItems: 100, maxBytes: 1 << 20)
        if batch.isEmpty { break }
        for item in batch {
            if case .line(let line) = item {
                all.append(JSONLDecoding.decode(line, file: path, decoder: decoder, maxRecordBytes: maxRecordBytes))
            } else {
                all.append(item)
            }
        }
    }
    return all
}

func rejection(_ item: SourceItem) -> Rejection? {
    if case .rejected(let r) = item { return r }
    return nil
}

func record(_ item: SourceItem) -> Record? {
    if case .record(let r) = item { return r }
    return nil
}

@Test func messyJSONLFileCompletesAndRejectsEachBadLine() throws {
    let dir = temporaryFolder()
    let file = dir.appendingPathComponent("messy.jsonl")
    var bytes: [UInt8] = [0xEF, 0xBB, 0xBF]                                   // byte-order mark
    bytes += Array("{\"text\": \"first record\"}\n".utf8)                    // line 1: fine
    bytes += Array("\n".utf8)                                                 // line 2: empty
    bytes += Array("{\"text\": \"bad ".utf8) + [0xFF, 0xFE] + Array("bytes\"}\n".utf8)  // line 3: invalid UTF-8
    bytes += Array("[1, 2, 3]\n".utf8)                                        // line 4: an array
    bytes += Array("{\"text\": \"".utf8)                                      // line 5: 50 MB line
    bytes += [UInt8](repeating: UInt8(ascii: "a"), count: 50 << 20)
    bytes += Array("\"}\n".utf8)
    bytes += Array("{\"text\": \"after the big one\"}\n".utf8)               // line 6: fine
    bytes += Array("{\"text\": \"cut sho".utf8)                               // line 7: truncated, no newline
    try Data(bytes).write(to: file)

    let all = try items(file.path)
    #expect(all.count == 7)
    #expect(record(all[0])?.content == .text("first record"))
    if case .empty(let at) = all[1] { #expect(at.line == 2) } else { Issue.record("line 2 should be empty") }
    let utf8 = try #require(rejection(all[2]))
    #expect(utf8.reason.code == "invalid_utf8" && utf8.source.line == 3)
    let utf8Offset = 3 + 25 + 1 + 14   // BOM, line 1, line 2, `{"text": "bad `
    #expect(utf8.reason.detail.contains("byte offset \(utf8Offset)"))
    let array = try #require(rejection(all[3]))
    #expect(array.reason.code == "not_an_object" && array.source.line == 4 && array.reason.detail.contains("array"))
    let big = try #require(rejection(all[4]))
    #expect(big.reason.code == "record_too_large" && big.source.line == 5)
    #expect(record(all[5])?.content == .text("after the big one"))
    #expect(record(all[5])?.source.line == 6)
    let cut = try #require(rejection(all[6]))
    #expect(cut.reason.code == "truncated_line" && cut.source.line == 7)
}

@Test func smallRecordCapTakesTheOversizePath() throws {
    let file = temporaryFolder().appendingPathComponent("a.jsonl")
    try Data("{\"text\": \"\(String(repeating: "x", count: 5000))\"}\n{\"text\": \"ok\"}".utf8).write(to: file)
    let all = try items(file.path, maxRecordBytes: 1000)
    #expect(rejection(all[0])?.reason.code == "record_too_large")
    #expect(record(all[1])?.content == .text("ok"))
}

@Test func formatsAreDetectedAndFieldsRemapped() throws {
    let file = temporaryFolder().appendingPathComponent("f.jsonl")
    let lines = [
        #"{"text": "plain", "id": 7}"#,
        #"{"prompt": "p", "completion": "c"}"#,
        #"{"instruction": "i", "output": "o"}"#,
        #"{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "tool", "content": "t"}]}"#,
        #"{"messages": [{"role": "wizard", "content": "x"}]}"#,
        #"{"title": "no known field"}"#,
        #"{"text": 42}"#,
    ]
    try Data(lines.joined(separator: "\n").utf8).write(to: file)
    let all = try items(file.path)
    #expect(record(all[0])?.content == .text("plain"))
    #expect(record(all[0])?.extra.first?.0 == "id")
    #expect(record(all[1])?.content == .promptCompletion(prompt: "p", completion: "c"))
    #expect(record(all[2])?.content == .alpaca(instruction: "i", input: "", output: "o"))
    #expect(record(all[3])?.content.format == .chat)
    #expect(rejection(all[4])?.reason.code == "invalid_role")
    #expect(rejection(all[5])?.reason.code == "unknown_format")
    #expect(rejection(all[6])?.reason.code == "wrong_type")

    let qa = temporaryFolder().appendingPathComponent("qa.jsonl")
    try Data(#"{"question": "q?", "answer": "a."}"#.utf8).write(to: qa)
    let mapped = try items(qa.path, decoder: RecordDecoder(fields: ["prompt": "question", "completion": "answer"]))
    #expect(record(mapped[0])?.content == .promptCompletion(prompt: "q?", completion: "a."))
    let forced = try items(qa.path, decoder: RecordDecoder(format: .text, fields: ["text": "answer"]))
    #expect(record(forced[0])?.content == .text("a."))
}

@Test func csvFollowsRFC4180AndRejectsBadRowsAlone() throws {
    let decoder = RecordDecoder(fields: ["prompt": "question", "completion": "answer"])
    let all = try items(fixture("tickets.csv").path, decoder: decoder)
    let records = all.compactMap(record)
    #expect(records.count == 2)
    #expect(records[0].content == .promptCompletion(prompt: "What is a \"ticket\"?", completion: "A request,\nfiled by a user."))
    #expect(records[0].source.line == 2)
    #expect(records[1].source.line == 4)
    #expect(records[1].extra.contains { $0.0 == "category" && $0.1 == .string("account") })
    let bad = all.compactMap(rejection)
    #expect(bad.map(\.source.line) == [5, 6])
    #expect(bad.allSatisfy { $0.reason.code == "invalid_csv" })
}

/// A CSV file that is only a UTF-8 byte-order mark read one byte past its first chunk (campaign hour, 2026-12-02,
/// `crash-57218c31` in Fixtures/fuzz/csv); it is an empty file. A BOM before a header still reads as the header.
@Test func csvOfOnlyAByteOrderMarkIsEmpty() throws {
    #expect(try items(fixture("fuzz/csv/crash-bom-only-57218c31.csv").path).isEmpty)
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-bom-\(UUID()).csv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    try Data([0xEF, 0xBB, 0xBF] + Array("text\nhello\n".utf8)).write(to: URL(fileURLWithPath: path))
    let records = try items(path).compactMap(record)
    #expect(records.map(\.content) == [.text("hello")] && records.first?.source.line == 2, "\(records)")
}

@Test func textFolderGivesOneRecordPerParagraph() throws {
    let dir = temporaryFolder()
    try Data("First paragraph\nstill first.\n\n  \nSecond one.\n".utf8).write(to: dir.appendingPathComponent("a.md"))
    try Data("Only one.".utf8).write(to: dir.appendingPathComponent("b.txt"))
    try Data("ignored".utf8).write(to: dir.appendingPathComponent("c.json.bak"))
    let records = try items(dir.path).compactMap(record)
    #expect(records.map(\.content) == [.text("First paragraph\nstill first."), .text("Second one."), .text("Only one.")])
    #expect(records[1].source.line == 5)
    let whole = try TextFolderReader(path: dir.path, mode: .file, maxRecordBytes: 1 << 20).nextBatch(maxItems: 10, maxBytes: 1 << 20)
    #expect(whole.count == 2)
}

/// A record that holds a key twice is rejected with the key and its byte offset (the parser used to keep the
/// first value silently); numbers are written back exactly as they came.
@Test func duplicateKeyRecordIsRejectedAndNumbersKeepTheirText() throws {
    let dir = temporaryFolder()
    let file = dir.appendingPathComponent("dup.jsonl")
    try Data(("{\"text\": \"one\", \"text\": \"two\"}\n"
        + "{\"text\": \"kept\", \"score\": 1.50, \"big\": 12345678901234567890123}\n").utf8).write(to: file)
    let all = try items(file.path)
    #expect(all.count == 2)
    let duplicate = try #require(rejection(all[0]))
    #expect(duplicate.reason.code == "invalid_json")
    #expect(duplicate.reason.detail.contains("duplicate key \"text\""))
    #expect(duplicate.reason.detail.contains("byte offset 16"))
    let kept = try #require(record(all[1]))
    var line: [UInt8] = []
    kept.json.write(into: &line)
    #expect(String(decoding: line, as: UTF8.self) == #"{"text":"kept","score":1.50,"big":12345678901234567890123}"#)
}
