/// The readable records of one file, one at a time in file order (a batch of at most 4,096 records or 16 MiB
/// is held): lines or rows that do not decode are skipped, as `RecordSources.records` skips them. The
/// tokenize stage reads cleaned files through it, so memory does not grow with the file.
public final class RecordStream {
    private let path: String
    private let source: any RecordSource
    private let decoder: RecordDecoder
    private let maxRecordBytes: Int
    private var batch: [SourceItem] = []
    private var position = 0
    private var ended = false

    /// Opens `path` (JSONL, CSV, Parquet or a text folder), decoding with `decoder`.
    public init(_ path: String, decoder: RecordDecoder = RecordDecoder(), maxRecordBytes: Int = 16 << 20,
                textMode: TextFolderMode = .file) throws(DataError) {
        self.path = path; self.decoder = decoder; self.maxRecordBytes = maxRecordBytes
        source = try RecordSources.open(path, maxRecordBytes: maxRecordBytes, textMode: textMode)
        (source as? any RecordDecodingSource)?.decoder = decoder
    }

    /// The next readable record, or nil at the end of the file.
    public func next() throws(DataError) -> Record? {
        while !ended {
            if position == batch.count {
                batch = try source.nextBatch(maxItems: 4096, maxBytes: 16 << 20)
                position = 0
                if batch.isEmpty { ended = true; return nil }
            }
            var item = batch[position]
            position += 1
            if case .line(let line) = item {
                item = JSONLDecoding.decode(line, file: path, decoder: decoder, maxRecordBytes: maxRecordBytes)
            }
            if case .record(let record) = item { return record }
        }
        return nil
    }
}
