/// Value encodings (`parquet.thrift`, enum `Encoding`).
enum ParquetEncoding: Int32 {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5, deltaLengthByteArray = 6
    case deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9

    static func name(_ raw: Int32) -> String {
        switch ParquetEncoding(rawValue: raw) {
        case .plain: return "PLAIN"
        case .plainDictionary: return "PLAIN_DICTIONARY"
        case .rle: return "RLE"
        case .bitPacked: return "BIT_PACKED"
        case .deltaBinaryPacked: return "DELTA_BINARY_PACKED"
        case .deltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY"
        case .deltaByteArray: return "DELTA_BYTE_ARRAY"
        case .rleDictionary: return "RLE_DICTIONARY"
        case .byteStreamSplit: return "BYTE_STREAM_SPLIT"
        case nil: return "encoding \(raw)"
        }
    }
}

/// A page header (`PageHeader` with its data page v1/v2 or dictionary page header): what follows it and how it
/// is encoded.
struct ParquetPageHeader {
    enum Kind { case dataV1, dataV2, dictionary, other }
    var kind = Kind.other
    var uncompressedSize = 0
    var compressedSize = 0
    /// Level entries (data pages, nulls included) or dictionary entries.
    var numValues = 0
    var encoding: Int32 = 0
    var definitionEncoding: Int32 = ParquetEncoding.rle.rawValue
    var repetitionEncoding: Int32 = ParquetEncoding.rle.rawValue
    /// Data page v2: byte lengths of the uncompressed level streams before the values, and whether the values are
    /// compressed.
    var definitionLength = 0
    var repetitionLength = 0
    var valuesCompressed = true
    /// Bytes the header itself took.
    var headerLength = 0

    /// Reads the header at the start of `reader`'s bytes.
    static func read(_ reader: inout ThriftReader) throws -> ParquetPageHeader {
        var h = ParquetPageHeader()
        var type: Int32 = -1
        var sawBody = false
        func count(_ r: inout ThriftReader, _ what: String) throws -> Int {
            let v = try r.i32()
            guard v >= 0 else { throw r.error(.invalidValue, "\(what) is negative (\(v))") }
            return Int(v)
        }
        try reader.structure { r, id, t in
            switch (id, t) {
            case (1, .i32): type = try r.i32()
            case (2, .i32): h.uncompressedSize = try count(&r, "uncompressed_page_size")
            case (3, .i32): h.compressedSize = try count(&r, "compressed_page_size")
            case (5, .structure):
                sawBody = true
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): h.numValues = try count(&r, "num_values")
                    case (2, .i32): h.encoding = try r.i32()
                    case (3, .i32): h.definitionEncoding = try r.i32()
                    case (4, .i32): h.repetitionEncoding = try r.i32()
                    default: try r.skip(t)
                    }
                }
            case (7, .structure):
                sawBody = true
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): h.numValues = try count(&r, "num_values")
                    case (2, .i32): h.encoding = try r.i32()
                    default: try r.skip(t)
                    }
                }
            case (8, .structure):
                sawBody = true
                try r.structure { r, id, t in
                    switch (id, t) {
                    case (1, .i32): h.numValues = try count(&r, "num_values")
                    case (4, .i32): h.encoding = try r.i32()
                    case (5, .i32): h.definitionLength = try count(&r, "definition_levels_byte_length")
                    case (6, .i32): h.repetitionLength = try count(&r, "repetition_levels_byte_length")
                    case (7, .boolTrue), (7, .boolFalse): h.valuesCompressed = try r.bool(t)
                    default: try r.skip(t)
                    }
                }
            default: try r.skip(t)
            }
        }
        switch type {
        case 0: h.kind = .dataV1
        case 2: h.kind = .dictionary
        case 3: h.kind = .dataV2
        case 1: h.kind = .other
        default: throw reader.error(.invalidValue, "unknown page type \(type)")
        }
        guard h.kind == .other || sawBody else {
            throw reader.error(.invalidValue, "a page header of type \(type) lacks its data or dictionary header")
        }
        guard h.kind != .dataV2 || h.definitionLength + h.repetitionLength <= h.compressedSize,
              h.kind != .dataV2 || h.definitionLength + h.repetitionLength <= h.uncompressedSize else {
            throw reader.error(.invalidValue, "the level streams (\(h.repetitionLength) + \(h.definitionLength) bytes) "
                + "are longer than the page")
        }
        h.headerLength = reader.offset
        return h
    }
}
