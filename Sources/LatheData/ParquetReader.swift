import Foundation
import LatheFormats

/// A reader whose items are already-parsed objects (CSV rows, Parquet rows) and that decodes them into records
/// itself, with the decoder the pipeline configures (format and field mapping).
public protocol RecordDecodingSource: RecordSource {
    /// Decoder applied to each row.
    var decoder: RecordDecoder { get set }
}

extension CSVReader: RecordDecodingSource {}

/// Streams a Parquet file's rows as records, one row group in memory at a time. Each row becomes a JSON object of
/// its top-level columns (a `messages` list of `{role, content}` structs, `prompt`/`completion`, alpaca columns or
/// `text`) and goes through the same record decoding as a JSONL line. A row whose text is not UTF-8 or is over the
/// record cap is rejected on its own; a damaged page stops the file with an error naming row group, column and byte.
public final class ParquetReader: RecordDecodingSource {
    /// The input path.
    public let path: String
    /// Decoder applied to each row (set by the pipeline).
    public var decoder = RecordDecoder()
    private let file: ParquetFile
    private let maxRecordBytes: Int
    private var group: ParquetRowGroup?
    private var nextGroup = 0
    private var nextRow = 0
    /// 1-based number of the next row in the whole file (the `line` of its source location).
    private var rowNumber = 1
    private let fileBytes: Int

    /// Opens `path` and reads its footer; rows over `maxRecordBytes` are rejected.
    public init(path: String, maxRecordBytes: Int, limits: ParquetLimits = ParquetLimits()) throws(DataError) {
        self.path = path
        self.maxRecordBytes = maxRecordBytes
        do { file = try ParquetFile(path: path, decompressor: ParquetCodecs(), limits: limits) } catch {
            throw Self.dataError(path, error)
        }
        fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// The file's size in proportion to the rows read (row groups are decoded whole, pages compressed, so the
    /// bytes behind one row are not known).
    public var bytesRead: Int {
        if file.rowCount == 0 { return nextGroup >= file.rowGroupCount ? fileBytes : 0 }
        return Int(Double(fileBytes) * Double(min(rowNumber - 1, file.rowCount)) / Double(file.rowCount))
    }

    public func nextBatch(maxItems: Int, maxBytes: Int) throws(DataError) -> [SourceItem] {
        var items: [SourceItem] = []
        var bytes = 0
        while items.count < maxItems, bytes < maxBytes {
            if group == nil || nextRow >= group!.rowCount {
                guard nextGroup < file.rowGroupCount else { break }
                group = nil  // one row group in memory at a time
                do { group = try file.rowGroup(nextGroup) } catch { throw Self.dataError(path, error) }
                nextGroup += 1
                nextRow = 0
                continue
            }
            guard let group else { break }
            let location = SourceLocation(file: path, line: rowNumber, byteOffset: group.byteOffset)
            switch group.row(nextRow, maxBytes: maxRecordBytes) {
            case .success(let value):
                switch decoder.decode(value, source: location) {
                case .success(let record):
                    bytes += record.content.parts.reduce(0) { $0 + $1.utf8.count }
                    items.append(.record(record))
                case .failure(let reason):
                    items.append(.rejected(Rejection(source: location, step: "read", reason: reason, record: value)))
                }
            case .failure(let problem):
                let reason = RejectReason(code: problem.code, detail: "row \(rowNumber): \(problem.detail)")
                items.append(.rejected(Rejection(source: location, step: "read", reason: reason)))
            }
            nextRow += 1
            rowNumber += 1
        }
        return items
    }

    /// A file-level problem as the data stage's error, keeping the reader's message (place and fix).
    static func dataError(_ path: String, _ error: any Error) -> DataError {
        if let format = error as? FormatError { return .malformedInput(format) }
        return .cannotRead(path: path, reason: "\(error)")
    }
}
