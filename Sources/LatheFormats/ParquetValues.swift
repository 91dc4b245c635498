/// Byte-array values stored end to end: value `i` is `data[start(i) ..< ends[i]]`.
struct ParquetByteArrays {
    var data: [UInt8] = []
    var ends: [Int] = []

    var count: Int { ends.count }
    func start(_ i: Int) -> Int { i == 0 ? 0 : ends[i - 1] }

    mutating func append<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        data.append(contentsOf: bytes)
        ends.append(data.count)
    }
}

/// The distinct values of one column chunk, in one array of its physical type: the dictionary's entries first, then
/// the values of pages that are not dictionary-encoded. Rows refer to them by index, so a dictionary-encoded string
/// is stored once however many rows repeat it.
struct ParquetPool {
    let leaf: ParquetLeaf
    var booleans: [Bool] = []
    var int32s: [Int32] = []
    var int64s: [Int64] = []
    var floats: [Float] = []
    var doubles: [Double] = []
    var bytes = ParquetByteArrays()
    /// Bytes of byte-array values decoded so far, checked against the row group's budget.
    var byteTotal: Int { bytes.data.count }

    init(leaf: ParquetLeaf) { self.leaf = leaf }

    var count: Int {
        switch leaf.type {
        case .boolean: return booleans.count
        case .int32: return int32s.count
        case .int64: return int64s.count
        case .float: return floats.count
        case .double: return doubles.count
        case .byteArray, .fixedLenByteArray, .int96: return bytes.count
        }
    }

    /// Byte width of a fixed-size value (0 for BOOLEAN and BYTE_ARRAY).
    var width: Int {
        switch leaf.type {
        case .int32, .float: return 4
        case .int64, .double: return 8
        case .int96, .fixedLenByteArray: return leaf.typeLength
        case .boolean, .byteArray: return 0
        }
    }

    /// Appends `count` PLAIN-encoded values read from `cursor`.
    mutating func appendPlain(_ cursor: inout PageCursor, count: Int, maxBytes: Int) throws(ParquetPageProblem) {
        switch leaf.type {
        case .boolean:
            let packed = try cursor.slice((count + 7) / 8, "\(count) PLAIN booleans")
            for i in 0 ..< count { booleans.append(packed[i >> 3] >> UInt8(i & 7) & 1 == 1) }
        case .byteArray:
            for i in 0 ..< count {
                let length = try cursor.u32("the length of PLAIN byte array \(i)")
                try appendBytes(try cursor.slice(length, "PLAIN byte array \(i)"), maxBytes: maxBytes)
            }
        default:
            try appendFixed(try cursor.slice(count * width, "\(count) PLAIN values of \(width) bytes"), count: count,
                            maxBytes: maxBytes)
        }
    }

    /// Appends `count` values of `width` bytes each, stored one after another (PLAIN, or BYTE_STREAM_SPLIT once
    /// its streams are interleaved back).
    mutating func appendFixed(_ raw: UnsafeRawBufferPointer, count: Int, maxBytes: Int) throws(ParquetPageProblem) {
        switch leaf.type {
        case .int32: for i in 0 ..< count { int32s.append(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
        case .int64: for i in 0 ..< count { int64s.append(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
        case .float:
            for i in 0 ..< count { floats.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))) }
        case .double:
            for i in 0 ..< count { doubles.append(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
        case .int96, .fixedLenByteArray:
            for i in 0 ..< count { try appendBytes(UnsafeRawBufferPointer(rebasing: raw[i * width ..< (i + 1) * width]), maxBytes: maxBytes) }
        case .boolean, .byteArray:
            throw ParquetPageProblem(.invalidValue, "fixed-width values for a \(leaf.type) column")
        }
    }

    /// Appends one byte-array value, refusing to grow past `maxBytes` in all.
    mutating func appendBytes<Bytes: Collection<UInt8>>(_ value: Bytes, maxBytes: Int) throws(ParquetPageProblem) {
        guard value.count <= maxBytes - bytes.data.count else {
            throw ParquetPageProblem(.overflow, "the column's values grow past the \(maxBytes >> 20) MiB a row group may "
                                     + "decode to (ParquetLimits.maxRowGroupBytes); write the file with smaller row groups (pyarrow: row_group_size=10000)")
        }
        bytes.append(value)
    }

    /// Appends `count` integers decoded by DELTA_BINARY_PACKED.
    mutating func appendIntegers(_ values: [Int64]) throws(ParquetPageProblem) {
        switch leaf.type {
        case .int32: int32s.append(contentsOf: values.map { Int32(truncatingIfNeeded: $0) })
        case .int64: int64s.append(contentsOf: values)
        default: throw ParquetPageProblem(.invalidValue, "DELTA_BINARY_PACKED values for a \(leaf.type) column")
        }
    }

    /// Appends `count` BYTE_STREAM_SPLIT values: byte `k` of value `i` is at `k * count + i`.
    mutating func appendByteStreamSplit(_ cursor: inout PageCursor, count: Int, maxBytes: Int) throws(ParquetPageProblem) {
        guard width > 0 else { throw ParquetPageProblem(.invalidValue, "BYTE_STREAM_SPLIT for a \(leaf.type) column") }
        let raw = try cursor.slice(count * width, "\(count) BYTE_STREAM_SPLIT values")
        let joined = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count * width, 1), alignment: 8)
        defer { joined.deallocate() }
        for k in 0 ..< width { for i in 0 ..< count { joined[i * width + k] = raw[k * count + i] } }
        try appendFixed(UnsafeRawBufferPointer(joined), count: count, maxBytes: maxBytes)
    }

    /// Value `i` as JSON: numbers and booleans as themselves, text as a string (nil when it is not UTF-8), other
    /// byte arrays as a string when they are UTF-8 and as base64 otherwise.
    func json(_ i: Int) -> JSONValue? {
        switch leaf.type {
        case .boolean: return .bool(booleans[i])
        case .int32: return .integer(Int(int32s[i]))
        case .int64: return .integer(Int(int64s[i]))
        case .float: return .double(Double(floats[i]))
        case .double: return .double(doubles[i])
        case .byteArray, .fixedLenByteArray, .int96:
            return bytes.data.withUnsafeBytes { all -> JSONValue? in
                let value = UnsafeRawBufferPointer(rebasing: all[bytes.start(i) ..< bytes.ends[i]])
                if UTF8Validation.firstInvalidByte(value) == nil { return .string(String(decoding: value, as: UTF8.self)) }
                return leaf.isText ? nil : .string(Self.base64(value))
            }
        }
    }

    /// Byte length of value `i` as text (for the record-size cap).
    func size(_ i: Int) -> Int {
        switch leaf.type {
        case .byteArray, .fixedLenByteArray, .int96: return bytes.ends[i] - bytes.start(i)
        default: return 8
        }
    }

    private static func base64(_ bytes: UnsafeRawBufferPointer) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            var chunk = UInt32(bytes[i]) << 16
            if n > 1 { chunk |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { chunk |= UInt32(bytes[i + 2]) }
            for k in 0 ..< 4 { out.append(k <= n ? alphabet[Int(chunk >> UInt32(18 - 6 * k) & 63)] : UInt8(ascii: "=")) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
