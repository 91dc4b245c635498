import Foundation
import LatheFormats

/// Streams an RFC 4180 CSV file: comma-separated, fields optionally in double quotes, `""` for a quote inside a
/// quoted field, newlines allowed inside quotes, CRLF or LF row ends. The first row is the header; each later
/// row becomes an object keyed by it and goes through the same record decoding as JSONL. A row with the wrong
/// number of fields, a stray quote or invalid UTF-8 is rejected on its own.
public final class CSVReader: RecordSource {
    /// The input path.
    public let path: String
    private let handle: FileHandle
    private let maxRecordBytes: Int
    private var chunk: [UInt8] = []
    private var index = 0
    private var fileOffset = 0     // offset of chunk[0]
    private var atEOF = false
    private var line = 1
    private var header: [String]?
    /// Decoder applied to each row (set by the pipeline).
    public var decoder = RecordDecoder()

    /// Opens `path`; rows longer than `maxRecordBytes` are rejected.
    public init(path: String, maxRecordBytes: Int) throws(DataError) {
        self.path = path
        self.maxRecordBytes = maxRecordBytes
        do { handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path)) } catch {
            throw DataError.cannotRead(path: path, reason: error.localizedDescription)
        }
    }

    deinit { try? handle.close() }

    public var bytesRead: Int { fileOffset + index }

    private func nextByte() throws(DataError) -> UInt8? {
        // A loop, not an `if`: a first chunk that is only a byte-order mark leaves nothing after it (a file of just
        // the BOM read past the chunk's end; campaign finding, 2026-12-02).
        while index >= chunk.count {
            if atEOF { return nil }
            fileOffset += chunk.count
            let data: Data?
            do { data = try handle.read(upToCount: 1 << 20) } catch {
                throw DataError.cannotRead(path: path, reason: error.localizedDescription)
            }
            guard let data, !data.isEmpty else { atEOF = true; chunk = []; index = 0; return nil }
            chunk = Array(data)
            index = 0
            if fileOffset == 0, chunk.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }
        defer { index += 1 }
        return chunk[index]
    }

    private func peekByte() throws(DataError) -> UInt8? {
        guard let b = try nextByte() else { return nil }
        index -= 1
        return b
    }

    /// One row: its fields, or an error message; nil at end of file.
    private func nextRow() throws(DataError) -> (fields: [[UInt8]], location: SourceLocation, error: String?)? {
        let location = SourceLocation(file: path, line: line, byteOffset: fileOffset + index)
        guard try peekByte() != nil else { return nil }
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        var size = 0
        var error: String?
        var quoted = false, inQuotes = false, atFieldStart = true
        while let b = try nextByte() {
            size += 1
            if size > maxRecordBytes, error == nil {
                error = "row is over the max_record_bytes cap of \(maxRecordBytes) bytes; split the row or raise --max-record-mb"
                field = []; fields = []
            }
            if inQuotes {
                if b == UInt8(ascii: "\"") {
                    if try peekByte() == UInt8(ascii: "\"") { _ = try nextByte(); if error == nil { field.append(b) } } else { inQuotes = false }
                } else {
                    if b == 0x0A { line += 1 }
                    if error == nil { field.append(b) }
                }
                continue
            }
            switch b {
            case UInt8(ascii: "\""):
                if atFieldStart { quoted = true; inQuotes = true }
                else if error == nil { error = "stray double quote in field \(fields.count + 1) (quote the whole field and double inner quotes)" }
            case UInt8(ascii: ","):
                fields.append(field); field = []; quoted = false; atFieldStart = true; continue
            case 0x0A:
                line += 1
                if field.last == 0x0D && !quoted { field.removeLast() }
                fields.append(field)
                return (fields, location, error)
            case 0x0D where quoted:
                break  // CR after a closing quote, before LF
            default:
                if quoted, error == nil { error = "text after the closing quote of field \(fields.count + 1)" }
                if error == nil { field.append(b) }
            }
            atFieldStart = false
        }
        if inQuotes { error = error ?? "quoted field \(fields.count + 1) is never closed (file ends inside quotes)" }
        fields.append(field)
        return (fields, location, error)
    }

    public func nextBatch(maxItems: Int, maxBytes: Int) throws(DataError) -> [SourceItem] {
        var items: [SourceItem] = []
        let startOffset = fileOffset + index
        while items.count < maxItems, fileOffset + index - startOffset < maxBytes, let row = try nextRow() {
            items.append(item(row.fields, row.location, row.error))
        }
        return items
    }

    private func item(_ fields: [[UInt8]], _ location: SourceLocation, _ error: String?) -> SourceItem {
        func reject(_ code: String, _ detail: String) -> SourceItem {
            .rejected(Rejection(source: location, step: "read", reason: RejectReason(code: code, detail: detail)))
        }
        if let error { return reject("invalid_csv", error) }
        for (n, f) in fields.enumerated() {
            if let bad = UTF8Validation.firstInvalidByte(f) {
                return reject("invalid_utf8", "invalid UTF-8 in field \(n + 1), \(bad) bytes into the field; re-export as UTF-8")
            }
        }
        let strings = fields.map { String(decoding: $0, as: UTF8.self) }
        guard let header else {
            self.header = strings
            return .empty(location)
        }
        if strings.count == 1 && strings[0].isEmpty { return .empty(location) }
        guard strings.count == header.count else {
            return reject("invalid_csv", "row has \(strings.count) fields, the header has \(header.count)")
        }
        let object = JSONValue.object(JSONObject(zip(header, strings).map { ($0, .string($1)) }))
        switch decoder.decode(object, source: location) {
        case .success(let record): return .record(record)
        case .failure(let reason): return .rejected(Rejection(source: location, step: "read", reason: reason, record: object))
        }
    }
}
