/// A Parquet file, memory-mapped, read one row group at a time (Apache Parquet format 2.x, `parquet.thrift`).
///
/// Opening reads only the footer; `rowGroup(_:)` decodes one row group's column chunks (pages in PLAIN, dictionary,
/// RLE and DELTA encodings, data page v1 and v2, any codec the decompressor handles) and nothing else, so memory
/// follows the largest row group, not the file. Every offset and length is checked against the file and against
/// `ParquetLimits`; a malformed file throws a `FormatError` naming the row group, the column and the byte offset.
public final class ParquetFile {
    /// The path or buffer name used in errors.
    public var name: String { bytes.name }
    /// Number of row groups.
    public var rowGroupCount: Int { meta.rowGroups.count }
    /// Rows in the whole file, as the footer announces.
    public var rowCount: Int { Int(clamping: meta.numRows) }
    /// The top-level field names, in file order.
    public var fieldNames: [String] { schema.fieldNames }
    /// Dotted paths of the columns (`messages.list.element.role`).
    public var columnPaths: [String] { schema.leaves.map(\.path) }
    /// The writer, as the footer names it (`parquet-cpp-arrow version 26.0.1`).
    public var createdBy: String? { meta.createdBy }

    let bytes: MappedBytes
    let meta: ParquetFileMeta
    let schema: ParquetSchema
    let decompressor: any ParquetDecompressor
    let limits: ParquetLimits
    /// Where page data ends: the footer and its length and magic follow.
    let dataEnd: Int

    /// Reads the footer of `bytes`; pages are decoded later, one row group at a time.
    public init(_ bytes: MappedBytes, decompressor: any ParquetDecompressor, limits: ParquetLimits = ParquetLimits()) throws {
        self.bytes = bytes
        self.decompressor = decompressor
        self.limits = limits
        meta = try ParquetFileMeta.read(bytes.buffer, file: bytes.name)
        let footer = Int(bytes.buffer.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self).littleEndian)
        dataEnd = bytes.count - 8 - footer
        schema = try ParquetSchema(meta.schema, file: bytes.name)
        for (g, group) in meta.rowGroups.enumerated() {
            guard group.columns.count == schema.leaves.count else {
                throw FormatError(.invalidValue, file: bytes.name, "row group \(g) has \(group.columns.count) column chunks "
                    + "but the schema has \(schema.leaves.count) columns")
            }
            guard group.numRows >= 0, group.numRows <= Int64(limits.maxRowGroupEntries) else {
                throw FormatError(.overflow, file: bytes.name, "row group \(g) announces \(group.numRows) rows, over the \(limits.maxRowGroupEntries) of ParquetLimits.maxRowGroupEntries",
                                  fix: "write the file with smaller row groups (pyarrow: row_group_size=10000)")
            }
            for (c, column) in group.columns.enumerated() {
                let leaf = schema.leaves[c]
                guard column.type == leaf.type else {
                    throw FormatError(.invalidValue, file: bytes.name, "row group \(g), column '\(leaf.path)': the chunk "
                        + "holds \(column.type) values but the schema says \(leaf.type)")
                }
                guard column.path.isEmpty || column.path.joined(separator: ".") == leaf.path else {
                    throw FormatError(.invalidValue, file: bytes.name, "row group \(g): chunk \(c) is for column "
                        + "'\(column.path.joined(separator: "."))' but the schema's column \(c) is '\(leaf.path)'")
                }
            }
        }
    }

    /// Maps the file at `path` and reads its footer.
    public convenience init(path: String, decompressor: any ParquetDecompressor, limits: ParquetLimits = ParquetLimits()) throws {
        try self.init(try MappedBytes(path: path), decompressor: decompressor, limits: limits)
    }

    /// Decodes row group `index` (0-based): every column chunk, ready to assemble into rows.
    public func rowGroup(_ index: Int) throws -> ParquetRowGroup {
        precondition(index >= 0 && index < rowGroupCount, "row group \(index) of \(rowGroupCount)")
        let group = meta.rowGroups[index]
        var entries = limits.maxRowGroupEntries
        var byteBudget = limits.maxRowGroupBytes
        var columns: [ParquetColumn] = []
        for (c, chunk) in group.columns.enumerated() {
            let leaf = schema.leaves[c]
            let reader = ParquetColumnReader(bytes: bytes.buffer, file: bytes.name, leaf: leaf, meta: chunk,
                                             place: "row group \(index), column '\(leaf.path)'",
                                             decompressor: decompressor, limits: limits)
            let column = try reader.read(dataEnd: dataEnd, entries: &entries, byteBudget: byteBudget)
            byteBudget -= column.pool.byteTotal
            columns.append(column)
        }
        let offset = group.columns.map { Int(clamping: $0.dictionaryPageOffset.flatMap { $0 > 0 ? $0 : nil } ?? $0.dataPageOffset) }
            .min() ?? 0
        do {
            return try ParquetRowGroup(index: index, rowCount: Int(group.numRows), byteOffset: offset, schema: schema,
                                       columns: columns)
        } catch {
            throw FormatError(error.kind, file: bytes.name, offset: offset, "row group \(index): \(error.message)",
                              fix: "the Parquet file is corrupt; export it again")
        }
    }
}
