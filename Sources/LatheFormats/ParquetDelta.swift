/// The DELTA encodings (Parquet `Encodings.md`): DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY and
/// DELTA_BYTE_ARRAY (incremental, front-coded) strings.
enum ParquetDelta {
    /// Decodes one DELTA_BINARY_PACKED stream at `cursor`, which must hold exactly `expected` values, leaving the
    /// cursor after its last miniblock. Arithmetic wraps, as the writers' does.
    static func integers(_ cursor: inout PageCursor, expected: Int) throws(ParquetPageProblem) -> [Int64] {
        let blockSize = try cursor.varint("DELTA_BINARY_PACKED block size")
        let miniblocks = try cursor.varint("DELTA_BINARY_PACKED miniblock count")
        let total = try cursor.varint("DELTA_BINARY_PACKED value count")
        var previous = try cursor.zigzag("DELTA_BINARY_PACKED first value")
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0 else {
            throw ParquetPageProblem(.invalidValue, "DELTA_BINARY_PACKED block size \(blockSize) with \(miniblocks) miniblocks "
                + "(the block size must be a multiple of 128 and each miniblock a multiple of 32 values)")
        }
        guard total == UInt64(expected) else {
            throw ParquetPageProblem(.invalidValue, "DELTA_BINARY_PACKED holds \(total) values where the page needs \(expected)")
        }
        var values: [Int64] = []
        values.reserveCapacity(expected)
        if expected == 0 { return values }
        values.append(previous)
        let perMiniblock = Int(blockSize / miniblocks)
        var deltas: [UInt64] = []
        while values.count < expected {
            let minDelta = try cursor.zigzag("DELTA_BINARY_PACKED minimum delta")
            let widths = try cursor.slice(Int(miniblocks), "DELTA_BINARY_PACKED bit widths")
            for width in widths {
                if values.count >= expected { break }
                guard width <= 64 else {
                    throw ParquetPageProblem(.invalidValue, "DELTA_BINARY_PACKED miniblock bit width \(width) is over 64")
                }
                let byteCount = perMiniblock * Int(width) / 8
                try cursor.need(byteCount, "a DELTA_BINARY_PACKED miniblock")
                deltas.removeAll(keepingCapacity: true)
                ParquetRLE.unpack(cursor.bytes, from: cursor.offset, count: min(perMiniblock, expected - values.count),
                                  width: Int(width), into: &deltas)
                cursor.offset += byteCount
                for delta in deltas {
                    previous = previous &+ minDelta &+ Int64(bitPattern: delta)
                    values.append(previous)
                }
            }
        }
        return values
    }

    /// Lengths decoded by DELTA_BINARY_PACKED; each must be between 0 and `limit`.
    static func lengths(_ cursor: inout PageCursor, expected: Int, limit: Int, what: String) throws(ParquetPageProblem) -> [Int] {
        let raw = try integers(&cursor, expected: expected)
        var out: [Int] = []
        out.reserveCapacity(raw.count)
        for value in raw {
            guard value >= 0, value <= Int64(limit) else {
                throw ParquetPageProblem(.invalidValue, "\(what) \(value) is negative or longer than the page")
            }
            out.append(Int(value))
        }
        return out
    }

    /// DELTA_LENGTH_BYTE_ARRAY: all lengths (delta-packed), then all the bytes, appended to `pool`.
    static func appendLengthByteArrays(_ cursor: inout PageCursor, count: Int, into pool: inout ParquetPool,
                                       maxBytes: Int) throws(ParquetPageProblem) {
        let lengths = try lengths(&cursor, expected: count, limit: cursor.remaining, what: "DELTA_LENGTH_BYTE_ARRAY length")
        for (i, length) in lengths.enumerated() {
            try pool.appendBytes(try cursor.slice(length, "DELTA_LENGTH_BYTE_ARRAY value \(i)"), maxBytes: maxBytes)
        }
    }

    /// DELTA_BYTE_ARRAY: prefix lengths (delta-packed), then suffixes (DELTA_LENGTH_BYTE_ARRAY); value `i` is the
    /// first `prefix[i]` bytes of value `i - 1` followed by `suffix[i]`.
    static func appendByteArrays(_ cursor: inout PageCursor, count: Int, into pool: inout ParquetPool,
                                 maxBytes: Int) throws(ParquetPageProblem) {
        let prefixes = try lengths(&cursor, expected: count, limit: maxBytes, what: "DELTA_BYTE_ARRAY prefix length")
        let suffixLengths = try lengths(&cursor, expected: count, limit: cursor.remaining,
                                        what: "DELTA_BYTE_ARRAY suffix length")
        var previous: [UInt8] = []
        for i in 0 ..< count {
            guard prefixes[i] <= previous.count else {
                throw ParquetPageProblem(.invalidValue, "DELTA_BYTE_ARRAY value \(i) reuses \(prefixes[i]) bytes of a "
                    + "\(previous.count)-byte predecessor")
            }
            let suffix = try cursor.slice(suffixLengths[i], "DELTA_BYTE_ARRAY suffix \(i)")
            guard suffix.count <= maxBytes - prefixes[i] else {
                throw ParquetPageProblem(.overflow, "DELTA_BYTE_ARRAY value \(i) is longer than the row group's byte budget "
                                         + "(ParquetLimits.maxRowGroupBytes); write the file with smaller row groups (pyarrow: row_group_size=10000)")
            }
            previous.removeSubrange(prefixes[i]...)
            previous.append(contentsOf: suffix)
            if pool.leaf.type == .fixedLenByteArray, previous.count != pool.leaf.typeLength {
                throw ParquetPageProblem(.invalidValue, "DELTA_BYTE_ARRAY value \(i) has \(previous.count) bytes in a "
                    + "\(pool.leaf.typeLength)-byte fixed-length column")
            }
            try pool.appendBytes(previous, maxBytes: maxBytes)
        }
    }
}
