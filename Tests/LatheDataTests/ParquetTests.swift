import Foundation
import Testing
import LatheFormats
@testable import LatheData

/// The pyarrow-written files of Scripts/goldens/parquet_files.py, each with its JSONL twin.
enum ParquetFixtures {
    static let names = ["chat_plain_none_v1", "chat_dict_snappy_v1", "chat_dict_gzip_v2", "chat_delta_zstd_v2",
                        "chat_delta_none_v1", "chat_legacy_lists_snappy_v1", "prompt_dict_zstd_v2", "prompt_delta_gzip_v1",
                        "alpaca_plain_snappy_v2"]

    static func path(_ name: String, _ ext: String) -> String { fixture("parquet/\(name).\(ext)").path }

    /// `value` with every number replaced by its Double value, so `1` (from a Parquet double) equals `1.0` (as
    /// Python's json writes it). The only difference allowed between the two readings.
    static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .number(let n): return .double(n.doubleValue)
        case .array(let a): return .array(a.map(normalized))
        case .object(let o): return .object(JSONObject(o.members.map { ($0.key, normalized($0.value)) }))
        default: return value
        }
    }

    /// What cleaning `path` with default settings gives: the cleaned lines and, per rejection, step and reason.
    static func clean(_ path: String) throws -> (kept: [JSONValue], rejected: [String], report: CleanReport) {
        let out = temporaryFolder().appendingPathComponent("out")
        let report = try CleaningPipeline(config: CleaningConfig()).run(inputs: [path], outputDirectory: out.path)
        let rejected = readJSONL(out.appendingPathComponent("rejected.jsonl")).map {
            "\($0["step"]?.stringValue ?? "?"):\($0["reason"]?.stringValue ?? "?")"
        }
        return (readJSONL(out.appendingPathComponent("cleaned.jsonl")).map(normalized), rejected, report)
    }
}

@Test(arguments: ParquetFixtures.names)
func parquetFileReadsAsItsJSONLTwin(_ name: String) throws {
    let parquet = try items(ParquetFixtures.path(name, "parquet"))
    let jsonl = try items(ParquetFixtures.path(name, "jsonl"))
    #expect(parquet.count == 41)
    #expect(parquet.count == jsonl.count)
    for (row, (p, j)) in zip(parquet, jsonl).enumerated() {
        switch (p, j) {
        case (.record(let a), .record(let b)):
            #expect(a.content == b.content, "row \(row + 1)")
            #expect(ParquetFixtures.normalized(a.json) == ParquetFixtures.normalized(b.json), "row \(row + 1)")
            #expect(a.source.line == row + 1)
        case (.rejected(let a), .rejected(let b)):
            #expect(a.reason.code == b.reason.code, "row \(row + 1)")
        default:
            Issue.record("row \(row + 1): parquet gave \(p), jsonl gave \(j)")
        }
    }
}

@Test(arguments: ParquetFixtures.names)
func parquetFileCleansToTheSameRecordsAsItsJSONLTwin(_ name: String) throws {
    let parquet = try ParquetFixtures.clean(ParquetFixtures.path(name, "parquet"))
    let jsonl = try ParquetFixtures.clean(ParquetFixtures.path(name, "jsonl"))
    #expect(!parquet.kept.isEmpty)
    #expect(parquet.kept == jsonl.kept)
    #expect(parquet.rejected == jsonl.rejected)
    #expect(parquet.report.recordsOut == jsonl.report.recordsOut)
}

@Test func parquetChatColumnBecomesChatMessages() throws {
    let all = try items(ParquetFixtures.path("chat_delta_zstd_v2", "parquet"))
    guard case .record(let first) = all[0], case .chat(let messages) = first.content else {
        Issue.record("row 1 is not a chat record: \(all[0])"); return
    }
    #expect(messages.map(\.role) == ["system", "user", "assistant"])
    #expect(messages[1].content == "How do I fix the VPN? Ticket 0 🙂")
    #expect(first.extra.map(\.0) == ["id", "score", "resolved", "agent"])
    #expect(first.extra.first?.1 == .integer(1000))
}

/// Every file-level failure is a `DataError.malformedInput` whose message names the file and a byte offset.
func expectMalformed(_ path: String, mentioning words: [String] = [], sourceLocation: Testing.SourceLocation = #_sourceLocation) {
    do {
        _ = try items(path)
        Issue.record("\(path) was read without an error", sourceLocation: sourceLocation)
    } catch let error as DataError {
        guard case .malformedInput(let format) = error else {
            Issue.record("expected malformedInput, got \(error)", sourceLocation: sourceLocation); return
        }
        #expect(format.file == path, sourceLocation: sourceLocation)
        #expect(format.offset != nil || format.kind == .invalidValue, sourceLocation: sourceLocation)
        for word in words { #expect(error.description.contains(word), "\(error)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

@Test func truncatedParquetFilesGiveTheTypedError() throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: ParquetFixtures.path("chat_dict_snappy_v1", "parquet")))
    let dir = temporaryFolder()
    for cut in [0, 3, 11, 100, original.count / 2, original.count - 9, original.count - 1] {
        let path = dir.appendingPathComponent("cut\(cut).parquet").path
        _ = FileManager.default.createFile(atPath: path, contents: original.prefix(cut))
        expectMalformed(path, mentioning: ["Fix:"])
    }
}

@Test func damagedPageNamesRowGroupColumnAndOffset() throws {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ParquetFixtures.path("chat_plain_none_v1", "parquet"))))
    // The first page header starts at byte 4; its first field (page type) becomes 9, which is no page type.
    #expect(bytes[4] == 0x15)
    bytes[5] = 9 << 1
    let path = temporaryFolder().appendingPathComponent("damaged.parquet").path
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    expectMalformed(path, mentioning: ["row group 0", "column 'id'", "page header at byte 4", "page type"])
}

@Test func everySingleByteDamageIsAnErrorOrRowsNeverACrash() throws {
    let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ParquetFixtures.path("prompt_dict_zstd_v2", "parquet"))))
    let dir = temporaryFolder()
    var errors = 0, completed = 0
    for position in stride(from: 0, to: original.count, by: 5) {
        var bytes = original
        bytes[position] ^= 0x5A
        let path = dir.appendingPathComponent("flip.parquet").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do { _ = try items(path); completed += 1 } catch is DataError { errors += 1 }
    }
    #expect(errors > 0)
    #expect(errors + completed == (original.count + 4) / 5)
}

/// Progress while reading counts the Parquet file's bytes (its size in proportion to the rows read), as it counts
/// a JSONL file's: the last reading event of each input reaches the input's size.
@Test func readingProgressCountsParquetBytes() throws {
    let parquet = ParquetFixtures.path("chat_delta_zstd_v2", "parquet")
    let jsonl = ParquetFixtures.path("chat_delta_zstd_v2", "jsonl")
    let parquetBytes = try #require(FileManager.default.attributesOfItem(atPath: parquet)[.size] as? Int)
    let jsonlBytes = try #require(FileManager.default.attributesOfItem(atPath: jsonl)[.size] as? Int)
    var reading: [Int] = []
    let out = temporaryFolder().appendingPathComponent("out")
    try CleaningPipeline(config: CleaningConfig()).run(inputs: [parquet, jsonl], outputDirectory: out.path) { event in
        if event.stage == .reading { reading.append(event.bytes) }
    }
    #expect(reading.count == 2)
    #expect(reading == [parquetBytes, parquetBytes + jsonlBytes])
}

@Test func parquetLimitErrorsNameTheLimitAndTheFix() throws {
    // Each cap lowered under what the fixture needs: the error names the ParquetLimits field and how to write a
    // file that fits (the caps are fixed for the CLI; they bound memory per row group).
    let path = ParquetFixtures.path("chat_plain_none_v1", "parquet")
    var pages = ParquetLimits(), values = ParquetLimits(), bytes = ParquetLimits()
    pages.maxPageBytes = 8
    values.maxRowGroupEntries = 4
    bytes.maxRowGroupBytes = 16
    for (limits, name, fix) in [(pages, "ParquetLimits.maxPageBytes", "data_page_size"),
                                (values, "ParquetLimits.maxRowGroupEntries", "row_group_size"),
                                (bytes, "ParquetLimits.maxRowGroupBytes", "row_group_size")] {
        do {
            let reader = try ParquetReader(path: path, maxRecordBytes: 16 << 20, limits: limits)
            while try !reader.nextBatch(maxItems: 100, maxBytes: 1 << 20).isEmpty {}
            Issue.record("\(name) lowered, yet the file was read")
        } catch {
            #expect("\(error)".contains(name), "\(error)")
            #expect("\(error)".contains(fix), "\(error)")
        }
    }
}
