import Foundation
import LatheFormats

/// A record that was dropped, with where it came from and why. Written as one line of `rejected.jsonl`.
public struct Rejection: Sendable {
    /// Origin of the record or line.
    public var source: SourceLocation
    /// The pipeline step that dropped it (`read`, `filter:gopher_quality`, `exact_dedup`…).
    public var step: String
    /// Why.
    public var reason: RejectReason
    /// The record as it was when dropped (after normalisation and redaction), when it could be decoded.
    public var record: JSONValue?
    /// For unreadable lines: the first bytes, decoded leniently, so a person can find the line.
    public var rawPrefix: String?

    /// Creates a rejection.
    public init(source: SourceLocation, step: String, reason: RejectReason, record: JSONValue? = nil, rawPrefix: String? = nil) {
        self.source = source; self.step = step; self.reason = reason; self.record = record; self.rawPrefix = rawPrefix
    }

    /// The `rejected.jsonl` line.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("file", .string(source.file)), ("line", .integer(source.line)),
            ("byte_offset", .integer(source.byteOffset)), ("step", .string(step)),
            ("reason", .string(reason.code)), ("detail", .string(reason.detail)),
        ]
        if let record { pairs.append(("record", record)) }
        if let rawPrefix { pairs.append(("raw_prefix", .string(rawPrefix))) }
        return .object(JSONObject(pairs))
    }
}

/// What a reader yields: a JSONL line still to decode (decoded in parallel by the pipeline), a record, a
/// rejected line, or an empty line (skipped and counted).
public enum SourceItem: Sendable {
    case line(RawLine)
    case record(Record)
    case rejected(Rejection)
    case empty(SourceLocation)
}

/// A streaming reader of one input.
public protocol RecordSource: AnyObject {
    /// The input path, as given.
    var path: String { get }
    /// Up to `maxItems` items, stopping early once about `maxBytes` were read; empty at the end.
    func nextBatch(maxItems: Int, maxBytes: Int) throws(DataError) -> [SourceItem]
    /// Bytes of the input read so far, for progress (a Parquet file counts its size in proportion to the rows read).
    var bytesRead: Int { get }
}

/// Opens the right reader for a path: `.jsonl`/`.json`/`.ndjson` lines, `.csv`, `.parquet`, or a folder of
/// `.txt`/`.md`.
public enum RecordSources {
    /// A reader for `path`.
    public static func open(_ path: String, maxRecordBytes: Int, textMode: TextFolderMode) throws(DataError) -> any RecordSource {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.cannotRead(path: path, reason: "no such file or folder")
        }
        let url = URL(fileURLWithPath: path)
        if isDirectory.boolValue { return try TextFolderReader(path: path, mode: textMode, maxRecordBytes: maxRecordBytes) }
        switch url.pathExtension.lowercased() {
        case "jsonl", "json", "ndjson": return try JSONLReader(path: path, maxRecordBytes: maxRecordBytes)
        case "csv": return try CSVReader(path: path, maxRecordBytes: maxRecordBytes)
        case "parquet": return try ParquetReader(path: path, maxRecordBytes: maxRecordBytes)
        case "txt", "md": return try TextFolderReader(path: path, mode: textMode, maxRecordBytes: maxRecordBytes)
        default: throw DataError.unsupportedInput(path: path)
        }
    }
}

/// Streams a JSONL file as raw lines; `JSONLDecoding.decode` turns each into a record or a rejection.
public final class JSONLReader: RecordSource {
    /// The input path.
    public let path: String
    private let lines: LineReader

    /// Opens `path`, capping each line at `maxRecordBytes`.
    public init(path: String, maxRecordBytes: Int) throws(DataError) {
        self.path = path
        lines = try LineReader(url: URL(fileURLWithPath: path), maxLineBytes: maxRecordBytes)
    }

    public var bytesRead: Int { lines.bytesConsumed }

    public func nextBatch(maxItems: Int, maxBytes: Int) throws(DataError) -> [SourceItem] {
        var items: [SourceItem] = []
        var bytes = 0
        while items.count < maxItems, bytes < maxBytes, let line = try lines.next() {
            bytes += line.bytes.count + 1
            items.append(.line(line))
        }
        return items
    }
}

/// Decoding of one JSONL line. Empty (whitespace-only) lines are skipped silently and counted in the report.
public enum JSONLDecoding {
    /// The record on `line`, or why it was rejected.
    public static func decode(_ line: RawLine, file: String, decoder: RecordDecoder, maxRecordBytes: Int) -> SourceItem {
        let location = SourceLocation(file: file, line: line.number, byteOffset: line.offset)
        func reject(_ code: String, _ detail: String) -> SourceItem {
            let prefix = String(decoding: line.bytes.prefix(200), as: UTF8.self)
            return .rejected(Rejection(source: location, step: "read", reason: RejectReason(code: code, detail: detail),
                                       rawPrefix: prefix.isEmpty ? nil : prefix))
        }
        if let length = line.oversizeLength {
            return reject("record_too_large", "line is \(length) bytes, over the max_record_bytes cap of \(maxRecordBytes); "
                + "split the record or raise --max-record-mb")
        }
        if line.bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .empty(location) }
        return line.bytes.withUnsafeBufferPointer { buf -> SourceItem in
            let value: JSONValue
            do throws(JSONError) { value = try JSONParser.parse(buf) } catch {
                if error.kind == .invalidUTF8 {
                    return reject("invalid_utf8", "invalid UTF-8 at byte offset \(line.offset + error.offset) of the file "
                        + "(column \(error.offset + 1) of the line); re-export the file as UTF-8")
                }
                if error.endOfInput && !line.terminated {
                    return reject("truncated_line", "the last line ends without a newline in the middle of a JSON value "
                        + "(file cut short?): \(error.message)")
                }
                return reject("invalid_json", "\(error.message) at column \(error.offset + 1) "
                    + "(byte offset \(line.offset + error.offset))")
            }
            switch decoder.decode(value, source: location) {
            case .success(let record): return .record(record)
            case .failure(let reason):
                return .rejected(Rejection(source: location, step: "read", reason: reason, record: value))
            }
        }
    }
}
