import Testing
@testable import LatheFormats

/// Hand-built streams from the worked examples of Parquet's `Encodings.md` and the Thrift compact-protocol spec.
/// (Whole files written by pyarrow are tested in LatheDataTests/ParquetTests, with the codecs.)

func withCursor<R>(_ bytes: [UInt8], _ body: (inout PageCursor) throws -> R) throws -> R {
    try bytes.withUnsafeBytes { raw in
        var cursor = PageCursor(raw)
        return try body(&cursor)
    }
}

@Test func rleHybridDecodesBitPackedAndRepeatedRuns() throws {
    // Encodings.md: 0…7 bit-packed at width 3 is one group (header 0b11) in bytes 10001000 11000110 11111010;
    // then an RLE run of five 2s at width 3 (header 5 << 1, one value byte).
    let values = try withCursor([0x03, 0x88, 0xC6, 0xFA, 0x0A, 0x02]) { cursor in
        var out: [UInt64] = []
        try ParquetRLE.decode(&cursor, width: 3, count: 13, maxValue: 7, what: "levels", into: &out)
        #expect(cursor.remaining == 0)
        return out
    }
    #expect(values == [0, 1, 2, 3, 4, 5, 6, 7, 2, 2, 2, 2, 2])
}

@Test func rleHybridRefusesValuesOverTheMaximumAndShortStreams() throws {
    #expect(throws: ParquetPageProblem.self) {
        try withCursor([0x0A, 0x05]) { cursor in
            var out: [UInt64] = []
            try ParquetRLE.decode(&cursor, width: 3, count: 5, maxValue: 4, what: "levels", into: &out)
        }
    }
    #expect(throws: ParquetPageProblem.self) {
        try withCursor([0x03, 0x88]) { cursor in      // a group of width 3 needs 3 bytes
            var out: [UInt64] = []
            try ParquetRLE.decode(&cursor, width: 3, count: 8, maxValue: 7, what: "levels", into: &out)
        }
    }
}

@Test func deltaBinaryPackedDecodesTheSpecificationExamples() throws {
    // Example 1: 1 2 3 4 5 — block 128, 4 miniblocks, 5 values, first 1; min delta 1, every width 0.
    let first = try withCursor([0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0]) {
        try ParquetDelta.integers(&$0, expected: 5)
    }
    #expect(first == [1, 2, 3, 4, 5])
    // Example 2: 7 5 3 1 2 3 4 5 — min delta −2, relative deltas 0 0 0 3 3 3 3 at width 2 (8 bytes of miniblock).
    var bytes: [UInt8] = [0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F]
    bytes += [UInt8](repeating: 0, count: 6)
    let second = try withCursor(bytes) { cursor in
        let values = try ParquetDelta.integers(&cursor, expected: 8)
        #expect(cursor.remaining == 0)
        return values
    }
    #expect(second == [7, 5, 3, 1, 2, 3, 4, 5])
}

@Test func deltaBinaryPackedRefusesBadHeaders() throws {
    for header: [UInt8] in [[0x40, 0x04, 0x01, 0x00], [0x80, 0x01, 0x03, 0x01, 0x00], [0x80, 0x01, 0x04, 0x09, 0x00]] {
        #expect(throws: ParquetPageProblem.self) { try withCursor(header) { try ParquetDelta.integers(&$0, expected: 1) } }
    }
}

@Test func thriftReaderBoundsNestingAndCounts() throws {
    // 40 nested structs (field 1, type struct: 0x1C each) exceed the depth cap of 32.
    let deep = [UInt8](repeating: 0x1C, count: 40) + [UInt8](repeating: 0, count: 41)
    #expect(throws: FormatError.self) {
        try deep.withUnsafeBytes { raw in
            var reader = ThriftReader(raw, file: "deep", base: 0, context: "test")
            try reader.skip(.structure)
        }
    }
    // A list announcing 2^32 strings in a 10-byte buffer.
    let long: [UInt8] = [0xF8, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0, 0, 0]
    #expect(throws: FormatError.self) {
        try long.withUnsafeBytes { raw in
            var reader = ThriftReader(raw, file: "long", base: 0, context: "test")
            _ = try reader.listHeader()
        }
    }
}

/// A decompressor for files that need none.
struct NoCodecs: ParquetDecompressor {
    func decompress(_ codec: ParquetCodec, _ input: UnsafeRawBufferPointer,
                    into output: UnsafeMutableRawBufferPointer) throws(ParquetCodecError) {
        throw ParquetCodecError("no codecs here", unsupported: true)
    }
}

@Test func parquetFileRefusesNonParquetBytesWithTheirOffset() throws {
    let cases: [([UInt8], FormatError.Kind)] = [
        (Array("PAR1".utf8), .truncated),
        (Array("PAR1 not parquet at all".utf8), .badHeader),
        (Array("PAR1".utf8) + [0xFF, 0xFF, 0xFF, 0x7F] + Array("PAR1".utf8) + [0xFF, 0xFF, 0xFF, 0x7F] + Array("PAR1".utf8), .badLayout),
        (Array("PAR1".utf8) + [0x00] + [1, 0, 0, 0] + Array("PARE".utf8), .unsupported),
    ]
    for (bytes, kind) in cases {
        do {
            _ = try ParquetFile(MappedBytes(bytes: bytes, name: "case.parquet"), decompressor: NoCodecs())
            Issue.record("read \(bytes.count) bytes without an error")
        } catch let error as FormatError {
            #expect(error.kind == kind, "\(error)")
            #expect(error.file == "case.parquet")
            #expect(error.offset != nil)
        }
    }
}
