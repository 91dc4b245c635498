/// Decompresses Parquet page bodies. LatheFormats links no codec library; LatheData supplies snappy, gzip and zstd.
public protocol ParquetDecompressor: Sendable {
    /// Fills `output` (exactly the page's uncompressed size) from `input`, or throws why it cannot.
    func decompress(_ codec: ParquetCodec, _ input: UnsafeRawBufferPointer,
                    into output: UnsafeMutableRawBufferPointer) throws(ParquetCodecError)
}

/// Why a page body did not decompress to its announced size.
public struct ParquetCodecError: Error, Sendable {
    /// What went wrong, in one sentence.
    public var message: String
    /// Whether the codec is simply not available (as opposed to damaged data).
    public var unsupported: Bool
    /// Creates an error.
    public init(_ message: String, unsupported: Bool = false) { self.message = message; self.unsupported = unsupported }
}

/// Caps on what reading one row group may allocate; a file beyond them is refused with the fix, never half-read.
public struct ParquetLimits: Sendable {
    /// Largest uncompressed page.
    public var maxPageBytes = 256 << 20
    /// Most level entries (values and nulls) over all columns of a row group.
    public var maxRowGroupEntries = 1 << 26
    /// Most bytes of string and binary values over all columns of a row group.
    public var maxRowGroupBytes = 1 << 30
    /// The default caps.
    public init() {}
}

/// The decoded levels and values of one column chunk.
struct ParquetColumn {
    var pool: ParquetPool
    /// Pool index of each non-null value, in order.
    var refs: [Int32] = []
    /// Definition level of each entry; empty when the column's maximum is 0.
    var definition: [UInt8] = []
    /// Repetition level of each entry; empty when the column's maximum is 0.
    var repetition: [UInt8] = []
    var entries = 0
}

/// Reads one column chunk of a mapped file page by page: dictionary page, then data pages v1 or v2.
struct ParquetColumnReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    let leaf: ParquetLeaf
    let meta: ParquetColumnMeta
    let place: String
    let decompressor: any ParquetDecompressor
    let limits: ParquetLimits

    func error(_ kind: FormatError.Kind, _ offset: Int, _ problem: String, fix: String? = nil) -> FormatError {
        let defaultFix = kind == .overflow
            ? "write the file with smaller row groups or pages (pyarrow: pq.write_table(..., row_group_size=10000))"
            : "the Parquet file is corrupt or cut short; export it again"
        return FormatError(kind, file: file, offset: offset, "\(place): \(problem)", fix: fix ?? defaultFix)
    }

    /// The chunk's pages, decoded; `entries` and `byteBudget` are what the row group has left.
    func read(dataEnd: Int, entries: inout Int, byteBudget: Int) throws -> ParquetColumn {
        guard let codec = ParquetCodec(rawValue: meta.codec) else {
            throw error(.unsupported, meta.dataPageOffset > 0 ? Int(meta.dataPageOffset) : 0, "unknown compression codec \(meta.codec)")
        }
        var start = meta.dataPageOffset
        if let dictionary = meta.dictionaryPageOffset, dictionary > 0, dictionary < start { start = dictionary }
        guard start >= 4, meta.totalCompressedSize > 0, meta.numValues >= 0,
              start <= Int64(dataEnd), meta.totalCompressedSize <= Int64(dataEnd) - start else {
            throw error(.badLayout, Int(clamping: start), "the chunk (\(meta.totalCompressedSize) bytes at byte \(start)) "
                + "lies outside the data before the footer (\(dataEnd) bytes)")
        }
        let end = Int(start + meta.totalCompressedSize)
        let expected = Int(meta.numValues)
        var column = ParquetColumn(pool: ParquetPool(leaf: leaf))
        var dictionary: Int?
        var offset = Int(start)
        while column.entries < expected {
            guard offset < end else {
                throw error(.truncated, offset, "the chunk ends after \(column.entries) of its \(expected) values")
            }
            var reader = ThriftReader(UnsafeRawBufferPointer(rebasing: bytes[offset ..< end]), file: file, base: offset,
                                      context: "\(place): page header at byte \(offset)")
            let header = try ParquetPageHeader.read(&reader)
            let bodyStart = offset + header.headerLength
            guard header.compressedSize <= end - bodyStart else {
                throw error(.truncated, offset, "a page of \(header.compressedSize) bytes runs past the end of its chunk")
            }
            guard header.uncompressedSize <= limits.maxPageBytes else {
                throw error(.overflow, offset, "a page decompresses to \(header.uncompressedSize) bytes, over the "
                    + "\(limits.maxPageBytes >> 20) MiB cap (ParquetLimits.maxPageBytes); write the file with smaller pages "
                    + "(pyarrow: data_page_size)")
            }
            let body = UnsafeRawBufferPointer(rebasing: bytes[bodyStart ..< bodyStart + header.compressedSize])
            if header.kind == .dataV1 || header.kind == .dataV2 || header.kind == .dictionary {
                guard header.numValues <= entries else {
                    throw error(.overflow, offset, "a page of \(header.numValues) values takes the row group over "
                        + "\(limits.maxRowGroupEntries) values (ParquetLimits.maxRowGroupEntries); write the file with smaller "
                        + "row groups (pyarrow: row_group_size=10000)")
                }
                entries -= header.numValues
            }
            do {
                switch header.kind {
                case .dictionary:
                    guard dictionary == nil, column.entries == 0 else {
                        throw ParquetPageProblem(.invalidValue, "a dictionary page after the chunk's first page")
                    }
                    let encoding = ParquetEncoding(rawValue: header.encoding)
                    guard encoding == .plain || encoding == .plainDictionary else {
                        throw ParquetPageProblem(.unsupported, "a dictionary page in \(ParquetEncoding.name(header.encoding))")
                    }
                    try decompressed(body, size: header.uncompressedSize, codec: codec, at: offset) { page throws in
                        var cursor = PageCursor(page)
                        try column.pool.appendPlain(&cursor, count: header.numValues, maxBytes: byteBudget)
                    }
                    dictionary = column.pool.count
                case .dataV1:
                    try decompressed(body, size: header.uncompressedSize, codec: codec, at: offset) { page throws in
                        var cursor = PageCursor(page)
                        try appendPage(header, levels: nil, values: &cursor, column: &column, dictionary: dictionary,
                                       byteBudget: byteBudget)
                    }
                case .dataV2:
                    let levelBytes = header.repetitionLength + header.definitionLength
                    let levels = PageCursor(UnsafeRawBufferPointer(rebasing: body[body.startIndex ..< body.startIndex + levelBytes]))
                    let rest = UnsafeRawBufferPointer(rebasing: body[(body.startIndex + levelBytes)...])
                    try decompressed(rest, size: header.uncompressedSize - levelBytes,
                                     codec: header.valuesCompressed ? codec : .uncompressed, at: offset) { page throws in
                        var values = PageCursor(page)
                        try appendPage(header, levels: levels, values: &values, column: &column, dictionary: dictionary,
                                       byteBudget: byteBudget)
                    }
                case .other: break
                }
            } catch let problem as ParquetPageProblem {
                throw error(problem.kind, offset, "page at byte \(offset): \(problem.message)",
                            fix: problem.kind == .unsupported ? "rewrite the file with pyarrow defaults (PLAIN, dictionary "
                                + "and DELTA encodings are read)" : nil)
            }
            offset = bodyStart + header.compressedSize
        }
        guard column.entries == expected else {
            throw error(.invalidValue, offset, "the pages hold \(column.entries) values where the footer announces \(expected)")
        }
        return column
    }

    /// Runs `body` on the page's uncompressed bytes.
    private func decompressed(_ input: UnsafeRawBufferPointer, size: Int, codec: ParquetCodec, at offset: Int,
                              _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        if codec == .uncompressed {
            guard input.count == size else {
                throw error(.invalidValue, offset, "an uncompressed page stores \(input.count) bytes but announces \(size)")
            }
            return try body(input)
        }
        var output = [UInt8](repeating: 0, count: size)
        do {
            try output.withUnsafeMutableBytes { try decompressor.decompress(codec, input, into: $0) }
        } catch let failure as ParquetCodecError {
            throw error(failure.unsupported ? .unsupported : .invalidValue, offset,
                        "page at byte \(offset): \(codec.name) data: \(failure.message)",
                        fix: failure.unsupported ? "rewrite the file with snappy, gzip, zstd or no compression "
                            + "(pyarrow: compression='zstd')" : nil)
        }
        try output.withUnsafeBytes { try body($0) }
    }

    /// Decodes one data page's levels (from `levels`, or for v1 pages from the start of `values`) and values onto
    /// `column`.
    private func appendPage(_ h: ParquetPageHeader, levels separate: PageCursor?, values: inout PageCursor,
                            column: inout ParquetColumn, dictionary: Int?, byteBudget: Int) throws(ParquetPageProblem) {
        let n = h.numValues
        let v2 = h.kind == .dataV2
        var levels = separate ?? values
        if leaf.maxRep > 0 {
            guard v2 || h.repetitionEncoding == ParquetEncoding.rle.rawValue else {
                throw ParquetPageProblem(.unsupported, "repetition levels in \(ParquetEncoding.name(h.repetitionEncoding))")
            }
            column.repetition += try ParquetRLE.levels(&levels, maxLevel: leaf.maxRep, count: n,
                                                       length: v2 ? h.repetitionLength : nil, what: "repetition levels")
        }
        var present = n
        if leaf.maxDef > 0 {
            guard v2 || h.definitionEncoding == ParquetEncoding.rle.rawValue else {
                throw ParquetPageProblem(.unsupported, "definition levels in \(ParquetEncoding.name(h.definitionEncoding))")
            }
            let definition = try ParquetRLE.levels(&levels, maxLevel: leaf.maxDef, count: n,
                                                   length: v2 ? h.definitionLength : nil, what: "definition levels")
            let top = UInt8(leaf.maxDef)
            present = definition.reduce(0) { $0 + ($1 == top ? 1 : 0) }
            column.definition += definition
        }
        if separate == nil { values.offset = levels.offset }
        column.entries += n
        let before = column.pool.count
        switch ParquetEncoding(rawValue: h.encoding) {
        case .plain:
            try column.pool.appendPlain(&values, count: present, maxBytes: byteBudget)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw ParquetPageProblem(.invalidValue, "dictionary indices without a dictionary page") }
            if present == 0 { return }
            guard dictionary > 0 else { throw ParquetPageProblem(.invalidValue, "dictionary indices into an empty dictionary") }
            let width = Int(try values.byte("the dictionary index bit width"))
            try ParquetRLE.decode(&values, width: width, count: present, maxValue: UInt64(dictionary - 1),
                                  what: "dictionary indices", into: &column.refs)
            return
        case .rle where leaf.type == .boolean:
            var bits = PageCursor(try values.slice(try values.u32("the RLE boolean length"), "RLE booleans"))
            var decoded: [UInt8] = []
            try ParquetRLE.decode(&bits, width: 1, count: present, maxValue: 1, what: "RLE booleans", into: &decoded)
            column.pool.booleans += decoded.map { $0 == 1 }
        case .deltaBinaryPacked:
            try column.pool.appendIntegers(try ParquetDelta.integers(&values, expected: present))
        case .deltaLengthByteArray where leaf.type == .byteArray:
            try ParquetDelta.appendLengthByteArrays(&values, count: present, into: &column.pool, maxBytes: byteBudget)
        case .deltaByteArray where leaf.type == .byteArray || leaf.type == .fixedLenByteArray:
            try ParquetDelta.appendByteArrays(&values, count: present, into: &column.pool, maxBytes: byteBudget)
        case .byteStreamSplit:
            try column.pool.appendByteStreamSplit(&values, count: present, maxBytes: byteBudget)
        default:
            throw ParquetPageProblem(.unsupported, "\(ParquetEncoding.name(h.encoding)) values in a \(leaf.type) column")
        }
        guard column.pool.count - before == present, column.pool.count <= Int(Int32.max) else {
            throw ParquetPageProblem(.invalidValue, "the page decodes to \(column.pool.count - before) values where its "
                + "levels need \(present)")
        }
        column.refs += (before ..< column.pool.count).map { Int32($0) }
    }
}
