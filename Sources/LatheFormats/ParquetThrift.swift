/// Thrift compact-protocol element types: the low nibble of a field header or of a list header.
/// (Apache Thrift, `doc/specs/thrift-compact-protocol.md`.)
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, byte = 3, i16 = 4, i32 = 5, i64 = 6, double = 7, binary = 8
    case list = 9, set = 10, map = 11, structure = 12
}

/// A bounds-checked reader of Thrift compact-protocol structures, as Parquet stores its footer and page headers.
///
/// Every read either succeeds or throws a `FormatError` naming the file and the byte offset; nesting is capped at
/// `maxDepth` so a hostile footer cannot exhaust the stack, and a list may not announce more elements than there are
/// bytes left.
struct ThriftReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    /// File offset of `bytes[0]`, so errors give positions in the file.
    let base: Int
    /// What is being read, e.g. "the file footer" or "a page header of row group 0, column 'text'".
    let context: String
    private(set) var offset = 0
    private var depth = 0
    static let maxDepth = 32

    init(_ bytes: UnsafeRawBufferPointer, file: String, base: Int, context: String) {
        self.bytes = bytes; self.file = file; self.base = base; self.context = context
    }

    /// An error at the cursor.
    func error(_ kind: FormatError.Kind, _ problem: String) -> FormatError {
        FormatError(kind, file: file, offset: base + offset, "\(context): \(problem)",
                    fix: "the Parquet file is corrupt or cut short; export it again (pyarrow, pandas, Spark or datasets)")
    }

    mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw error(.truncated, "Thrift data ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// An unsigned LEB128 varint of at most 10 bytes.
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let b = try byte()
            if shift == 63 && b > 1 { break }
            result |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return result }
        }
        throw error(.invalidValue, "a varint is longer than 64 bits")
    }

    /// A zigzag varint that must fit in 64 bits.
    mutating func i64() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// A zigzag varint that must fit in 32 bits.
    mutating func i32() throws -> Int32 {
        let v = try i64()
        guard let narrow = Int32(exactly: v) else { throw error(.invalidValue, "an i32 field holds \(v)") }
        return narrow
    }

    /// A length-prefixed byte string, as a view into the buffer.
    mutating func binary() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - offset) else {
            throw error(.truncated, "a string of \(length) bytes runs past the end of the structure")
        }
        let view = UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + Int(length)])
        offset += Int(length)
        return view
    }

    /// A string field; invalid UTF-8 becomes U+FFFD (names are only used for matching and messages).
    mutating func string() throws -> String { String(decoding: try binary(), as: UTF8.self) }

    /// A list header: the element count (never more than the bytes left, each element taking at least one) and type.
    mutating func listHeader() throws -> (count: Int, type: ThriftType) {
        let header = try byte()
        var count = Int(header >> 4)
        if count == 15 {
            let long = try varint()
            guard long <= UInt64(bytes.count - offset) else {
                throw error(.invalidValue, "a list announces \(long) elements but only \(bytes.count - offset) bytes are left")
            }
            count = Int(long)
        }
        guard let type = ThriftType(rawValue: header & 0x0F), type != .stop else {
            throw error(.invalidValue, "unknown Thrift list element type \(header & 0x0F)")
        }
        guard count <= bytes.count - offset else {
            throw error(.invalidValue, "a list announces \(count) elements but only \(bytes.count - offset) bytes are left")
        }
        return (count, type)
    }

    /// Reads a struct, calling `field` with each field id and type; `field` must consume the value (or `skip` it).
    mutating func structure(_ field: (inout ThriftReader, Int16, ThriftType) throws -> Void) throws {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw error(.invalidValue, "structures nest deeper than \(Self.maxDepth) (ParquetThrift.maxDepth, a fixed bound on the footer reader's recursion that no real writer reaches); the file is corrupt or hostile") }
        var last: Int16 = 0
        while true {
            let header = try byte()
            guard let type = ThriftType(rawValue: header & 0x0F) else {
                throw error(.invalidValue, "unknown Thrift field type \(header & 0x0F)")
            }
            if type == .stop { return }
            let delta = Int16(header >> 4)
            if delta != 0 {
                last &+= delta
            } else {
                let id = try i64()
                guard let narrow = Int16(exactly: id) else { throw error(.invalidValue, "field id \(id) is out of range") }
                last = narrow
            }
            try field(&self, last, type)
        }
    }

    /// A list of `type` elements, each read by `element`; elements of other types are skipped.
    mutating func list(_ element: (inout ThriftReader, ThriftType) throws -> Void) throws {
        let (count, type) = try listHeader()
        for _ in 0 ..< count { try element(&self, type) }
    }

    /// The value of a boolean field (compact protocol puts it in the field header) or list element (a byte).
    mutating func bool(_ type: ThriftType, inList: Bool = false) throws -> Bool {
        if inList { return try byte() == 1 }
        return type == .boolTrue
    }

    /// Skips one value of `type`.
    mutating func skip(_ type: ThriftType, inList: Bool = false) throws {
        switch type {
        case .stop: throw error(.invalidValue, "a stop marker where a value was expected")
        case .boolTrue, .boolFalse: if inList { _ = try byte() }
        case .byte: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard bytes.count - offset >= 8 else { throw error(.truncated, "a double runs past the end") }
            offset += 8
        case .binary: _ = try binary()
        case .list, .set:
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw error(.invalidValue, "lists nest deeper than \(Self.maxDepth)") }
            let (count, elementType) = try listHeader()
            for _ in 0 ..< count { try skip(elementType, inList: true) }
        case .map:
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maxDepth else { throw error(.invalidValue, "maps nest deeper than \(Self.maxDepth)") }
            let count = try varint()
            guard count <= UInt64(bytes.count - offset) else { throw error(.invalidValue, "a map announces \(count) entries") }
            if count == 0 { return }
            let types = try byte()
            guard let key = ThriftType(rawValue: types >> 4), let value = ThriftType(rawValue: types & 0x0F) else {
                throw error(.invalidValue, "unknown Thrift map types \(types)")
            }
            for _ in 0 ..< count {
                try skip(key, inList: true)
                try skip(value, inList: true)
            }
        case .structure:
            try structure { reader, _, type in try reader.skip(type) }
        }
    }
}
