import Testing
import LatheFormats

@Suite struct ZstdTests {
    let payload: [UInt8] = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) % 17 }

    @Test func roundTripsAndCompresses() throws {
        let packed = try Zstd.compress(payload)
        #expect(packed.count < payload.count / 2)
        #expect(try Zstd.decompress(packed, limit: payload.count) == payload)
    }

    @Test func refusesOutputBeyondLimit() throws {
        let packed = try Zstd.compress(payload)
        #expect(throws: ZstdError.tooLarge(source: "x", limit: 1000)) {
            try Zstd.decompress(packed, limit: 1000, source: "x")
        }
    }

    @Test func detectsTruncation() throws {
        let packed = try Zstd.compress(payload)
        #expect(throws: ZstdError.truncated(source: "cut")) {
            try Zstd.decompress(Array(packed.dropLast(9)), limit: payload.count, source: "cut")
        }
    }

    @Test func detectsCorruptionByChecksum() throws {
        var packed = try Zstd.compress(payload, level: 1)
        packed[packed.count / 2] ^= 0x40
        #expect(throws: ZstdError.self) { try Zstd.decompress(packed, limit: payload.count) }
    }
}
