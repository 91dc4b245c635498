/// A problem inside one page body; the column reader adds the file, row group, column and page offset.
struct ParquetPageProblem: Error {
    var kind: FormatError.Kind
    var message: String
    init(_ kind: FormatError.Kind, _ message: String) { self.kind = kind; self.message = message }
}

/// A bounds-checked cursor over a page body (decompressed bytes or a slice of the mapped file).
struct PageCursor {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) { self.bytes = bytes; self.offset = offset }

    var remaining: Int { bytes.count - offset }

    func need(_ count: Int, _ what: @autoclosure () -> String) throws(ParquetPageProblem) {
        guard count >= 0, count <= remaining else {
            throw ParquetPageProblem(.truncated, "\(what()) needs \(count) bytes at byte \(offset) of the page, "
                + "but only \(max(remaining, 0)) are left")
        }
    }

    mutating func byte(_ what: @autoclosure () -> String) throws(ParquetPageProblem) -> UInt8 {
        try need(1, what())
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(ParquetPageProblem) -> Int {
        try need(4, what())
        defer { offset += 4 }
        return Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
    }

    /// An unsigned LEB128 varint of at most 64 bits.
    mutating func varint(_ what: @autoclosure () -> String) throws(ParquetPageProblem) -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            let b = try byte(what())
            if shift == 63 && b > 1 { break }
            result |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return result }
        }
        throw ParquetPageProblem(.invalidValue, "\(what()): a varint is longer than 64 bits")
    }

    /// A zigzag varint.
    mutating func zigzag(_ what: @autoclosure () -> String) throws(ParquetPageProblem) -> Int64 {
        let v = try varint(what())
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// The next `count` bytes as a view, advancing past them.
    mutating func slice(_ count: Int, _ what: @autoclosure () -> String) throws(ParquetPageProblem) -> UnsafeRawBufferPointer {
        try need(count, what())
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset ..< offset + count])
    }
}

/// Bit unpacking and the RLE/bit-packed hybrid encoding (Parquet `Encodings.md`, "Run Length Encoding /
/// Bit-Packing Hybrid"): levels, dictionary indices and booleans.
enum ParquetRLE {
    /// Appends `count` values of `width` (≤ 64) bits packed least-significant bit first, starting at `start` of
    /// `bytes`; the caller has checked that `(count * width + 7) / 8` bytes are there.
    static func unpack<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int, width: Int,
                                             into out: inout [T]) {
        guard width > 0 else {
            out.append(contentsOf: repeatElement(0, count: count))
            return
        }
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        var bit = start * 8
        for _ in 0 ..< count {
            var value: UInt64 = 0
            var got = 0
            while got < width {
                let shift = bit & 7
                let take = min(8 - shift, width - got)
                let piece = (UInt64(bytes[bit >> 3]) >> UInt64(shift)) & ((1 << UInt64(take)) - 1)
                value |= piece << UInt64(got)
                got += take
                bit += take
            }
            out.append(T(truncatingIfNeeded: value & mask))
        }
    }

    /// Decodes `count` values of `width` (≤ 32) bits from the hybrid stream in `cursor` (no length prefix), each
    /// at most `maxValue` (which `T` must hold), appending them to `out`.
    static func decode<T: FixedWidthInteger>(_ cursor: inout PageCursor, width: Int, count: Int, maxValue: UInt64,
                                             what: String, into out: inout [T]) throws(ParquetPageProblem) {
        guard (0 ... min(32, T.bitWidth)).contains(width) else {
            throw ParquetPageProblem(.invalidValue, "\(what): bit width \(width) is over 32")
        }
        out.reserveCapacity(out.count + count)
        var left = count
        while left > 0 {
            let header = try cursor.varint("\(what) run header")
            if header & 1 == 1 {
                // Bit-packed run: (header >> 1) groups of 8 values.
                let groups = header >> 1
                guard groups > 0, groups <= UInt64(cursor.remaining) else {
                    throw ParquetPageProblem(.truncated, "\(what): a bit-packed run of \(groups) groups runs past the page")
                }
                let byteCount = Int(groups) * width
                try cursor.need(byteCount, "\(what) bit-packed run")
                let values = min(Int(groups) * 8, left)
                let first = out.count
                unpack(cursor.bytes, from: cursor.offset, count: values, width: width, into: &out)
                for i in first ..< out.count where UInt64(truncatingIfNeeded: out[i]) > maxValue {
                    throw ParquetPageProblem(.invalidValue, "\(what): value \(out[i]) is over the maximum \(maxValue)")
                }
                cursor.offset += byteCount
                left -= values
            } else {
                let run = header >> 1
                guard run > 0 else { throw ParquetPageProblem(.invalidValue, "\(what): an RLE run of length 0") }
                let raw = try cursor.slice((width + 7) / 8, "\(what) RLE value")
                var value: UInt64 = 0
                for (i, b) in raw.enumerated() { value |= UInt64(b) << UInt64(8 * i) }
                guard value <= maxValue else {
                    throw ParquetPageProblem(.invalidValue, "\(what): value \(value) is over the maximum \(maxValue)")
                }
                let take = Int(min(run, UInt64(left)))
                out.append(contentsOf: repeatElement(T(truncatingIfNeeded: value), count: take))
                left -= take
            }
        }
    }

    /// A level stream of `count` levels at most `maxLevel` as bytes; `length` is the stream's byte length when
    /// known (data page v2), else read from a 4-byte prefix (v1).
    static func levels(_ cursor: inout PageCursor, maxLevel: Int, count: Int, length: Int?, what: String)
        throws(ParquetPageProblem) -> [UInt8] {
        var byteLength = length ?? 0
        if length == nil { byteLength = try cursor.u32("\(what) length") }
        var sub = PageCursor(try cursor.slice(byteLength, what))
        var levels: [UInt8] = []
        try decode(&sub, width: ParquetSchema.bitWidth(maxLevel), count: count, maxValue: UInt64(maxLevel), what: what,
                   into: &levels)
        return levels
    }
}
