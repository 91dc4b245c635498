/// Reading the records of a whole file outside the cleaning pipeline: the tokenize stage's cleaned files,
/// `lathe train`'s data and the evaluation files `lathe clean --decontaminate` compares against.
extension RecordSources {
    /// Every readable record of `path` in file order; lines or rows that do not decode are skipped (cleaning
    /// reports them with their reason; these callers read files that were cleaned, or only need their texts).
    public static func records(_ path: String, decoder: RecordDecoder = RecordDecoder(), maxRecordBytes: Int = 16 << 20,
                               textMode: TextFolderMode = .file) throws(DataError) -> [Record] {
        let stream = try RecordStream(path, decoder: decoder, maxRecordBytes: maxRecordBytes, textMode: textMode)
        var records: [Record] = []
        while let record = try stream.next() { records.append(record) }
        return records
    }
}

extension CleaningPipeline {
    /// The joined texts of the readable records of `paths`, read with this pipeline's format, field mapping,
    /// record-size cap and text-folder mode: the `evaluationTexts` that `run` decontaminates against.
    public func evaluationTexts(_ paths: [String]) throws(DataError) -> [String] {
        let decoder = RecordDecoder(format: config.format, fields: config.fields)
        var texts: [String] = []
        for path in paths {
            texts += try RecordSources.records(path, decoder: decoder, maxRecordBytes: config.maxRecordBytes,
                                               textMode: config.textMode).map(\.content.joinedText)
        }
        return texts
    }
}
