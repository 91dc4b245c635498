/// Parquet physical types (`parquet.thrift`, enum `Type`).
public enum ParquetPhysicalType: Int32, Sendable {
    case boolean = 0, int32, int64, int96, float, double, byteArray, fixedLenByteArray
}

/// Page compression codecs (`parquet.thrift`, enum `CompressionCodec`).
public enum ParquetCodec: Int32, Sendable, CaseIterable {
    case uncompressed = 0, snappy, gzip, lzo, brotli, lz4, zstd, lz4Raw

    /// The name pyarrow and the specification use.
    public var name: String {
        switch self {
        case .uncompressed: return "UNCOMPRESSED"
        case .snappy: return "SNAPPY"
        case .gzip: return "GZIP"
        case .lzo: return "LZO"
        case .brotli: return "BROTLI"
        case .lz4: return "LZ4"
        case .zstd: return "ZSTD"
        case .lz4Raw: return "LZ4_RAW"
        }
    }
}

/// One entry of the footer's flattened schema (`SchemaElement`): a group when `numChildren` is set, else a column.
struct ParquetSchemaElement {
    var name = ""
    var type: ParquetPhysicalType?
    var typeLength: Int32?
    /// 0 required, 1 optional, 2 repeated (`FieldRepetitionType`).
    var repetition: Int32?
    var numChildren: Int32?
    /// `ConvertedType`: 0 UTF8, 1 MAP, 2 MAP_KEY_VALUE, 3 LIST, 4 ENUM, 19 JSON.
    var convertedType: Int32?
    /// The set member of the `LogicalType` union: 1 STRING, 2 MAP, 3 LIST, 4 ENUM, 12 JSON.
    var logicalType: Int16?
}

/// The footer's description of one column chunk (`ColumnChunk` with its `ColumnMetaData`).
struct ParquetColumnMeta {
    var type: ParquetPhysicalType = .boolean
    var path: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = 0
    var dictionaryPageOffset: Int64?
}

/// The footer's description of one row group.
struct ParquetRowGroupMeta {
    var columns: [ParquetColumnMeta] = []
    var numRows: Int64 = 0
}

/// The decoded footer (`FileMetaData`): schema, row groups and the writer's name.
struct ParquetFileMeta {
    var version: Int32 = 0
    var schema: [ParquetSchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [ParquetRowGroupMeta] = []
    var createdBy: String?

    /// Reads the footer of a whole file: `PAR1`, pages, footer, its 4-byte length, `PAR1`.
    static func read(_ bytes: UnsafeRawBufferPointer, file: String) throws -> ParquetFileMeta {
        let fix = "the file is not a complete Parquet file; export it again, or check that the copy finished"
        guard bytes.count >= 12 else {
            throw FormatError(.truncated, file: file, offset: 0, "\(bytes.count) bytes is too short for a Parquet file", fix: fix)
        }
        let head = Array(bytes[0 ..< 4]), tail = Array(bytes[bytes.count - 4 ..< bytes.count])
        if tail == Array("PARE".utf8) {
            throw FormatError(.unsupported, file: file, offset: bytes.count - 4, "the footer is encrypted (Parquet modular encryption)",
                              fix: "write the file without encryption")
        }
        guard head == Array("PAR1".utf8), tail == Array("PAR1".utf8) else {
            throw FormatError(.badHeader, file: file, offset: head == Array("PAR1".utf8) ? bytes.count - 4 : 0,
                              "missing the PAR1 magic at the \(head == Array("PAR1".utf8) ? "end" : "start") of the file", fix: fix)
        }
        let length = Int(bytes.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self).littleEndian)
        guard length <= bytes.count - 12 else {
            throw FormatError(.badLayout, file: file, offset: bytes.count - 8,
                              "the footer length \(length) is more than the \(bytes.count - 12) bytes before it", fix: fix)
        }
        let start = bytes.count - 8 - length
        var reader = ThriftReader(UnsafeRawBufferPointer(rebasing: bytes[start ..< bytes.count - 8]), file: file, base: start,
                                  context: "the file footer")
        var meta = ParquetFileMeta()
        try reader.structure { r, id, type in
            switch (id, type) {
            case (1, .i32): meta.version = try r.i32()
            case (2, .list): try r.list { r, t in
                guard t == .structure else { return try r.skip(t, inList: true) }
                meta.schema.append(try schemaElement(&r))
            }
            case (3, .i64): meta.numRows = try r.i64()
            case (4, .list): try r.list { r, t in
                guard t == .structure else { return try r.skip(t, inList: true) }
                meta.rowGroups.append(try rowGroup(&r))
            }
            case (6, .binary): meta.createdBy = try r.string()
            default: try r.skip(type)
            }
        }
        guard !meta.schema.isEmpty else { throw reader.error(.invalidValue, "the schema is empty") }
        return meta
    }

    private static func schemaElement(_ r: inout ThriftReader) throws -> ParquetSchemaElement {
        var e = ParquetSchemaElement()
        try r.structure { r, id, type in
            switch (id, type) {
            case (1, .i32): e.type = try physicalType(&r)
            case (2, .i32): e.typeLength = try r.i32()
            case (3, .i32): e.repetition = try r.i32()
            case (4, .binary): e.name = try r.string()
            case (5, .i32): e.numChildren = try r.i32()
            case (6, .i32): e.convertedType = try r.i32()
            case (10, .structure):
                try r.structure { r, member, type in
                    e.logicalType = member
                    try r.skip(type)
                }
            default: try r.skip(type)
            }
        }
        return e
    }

    private static func physicalType(_ r: inout ThriftReader) throws -> ParquetPhysicalType {
        let raw = try r.i32()
        guard let physical = ParquetPhysicalType(rawValue: raw) else { throw r.error(.invalidValue, "unknown physical type \(raw)") }
        return physical
    }

    private static func rowGroup(_ r: inout ThriftReader) throws -> ParquetRowGroupMeta {
        var group = ParquetRowGroupMeta()
        try r.structure { r, id, type in
            switch (id, type) {
            case (1, .list): try r.list { r, t in
                guard t == .structure else { return try r.skip(t, inList: true) }
                group.columns.append(try columnChunk(&r))
            }
            case (3, .i64): group.numRows = try r.i64()
            default: try r.skip(type)
            }
        }
        return group
    }

    private static func columnChunk(_ r: inout ThriftReader) throws -> ParquetColumnMeta {
        var meta: ParquetColumnMeta?
        var external = false
        try r.structure { r, id, type in
            switch (id, type) {
            case (1, .binary): external = !(try r.binary()).isEmpty
            case (3, .structure): meta = try columnMeta(&r)
            default: try r.skip(type)
            }
        }
        guard !external else {
            throw r.error(.unsupported, "a column chunk lives in another file (file_path is set); only self-contained files are read")
        }
        guard let meta else { throw r.error(.unsupported, "a column chunk has no metadata (encrypted columns are not read)") }
        return meta
    }

    private static func columnMeta(_ r: inout ThriftReader) throws -> ParquetColumnMeta {
        var m = ParquetColumnMeta()
        try r.structure { r, id, type in
            switch (id, type) {
            case (1, .i32): m.type = try physicalType(&r)
            case (3, .list): try r.list { r, t in
                guard t == .binary else { return try r.skip(t, inList: true) }
                m.path.append(try r.string())
            }
            case (4, .i32): m.codec = try r.i32()
            case (5, .i64): m.numValues = try r.i64()
            case (7, .i64): m.totalCompressedSize = try r.i64()
            case (9, .i64): m.dataPageOffset = try r.i64()
            case (11, .i64): m.dictionaryPageOffset = try r.i64()
            default: try r.skip(type)
            }
        }
        return m
    }
}
