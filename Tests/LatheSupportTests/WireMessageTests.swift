import LatheSupport
import Testing

/// The messages ranks exchange: every field comes back bit for bit, a cut message names the sender and the
/// offset, and the rooted gather of a transport without one delivers to rank 0 only.
@Suite struct WireMessageTests {
    @Test func fieldsRoundTripBitForBit() throws {
        var out = WireWriter()
        out.u8(7); out.u64(.max); out.int(-42); out.double(-0.0); out.double(.pi); out.bool(true)
        out.string("naïve — ok"); out.data([0, 255, 10])
        out.optional(Optional<Int>.none) { $0.int($1) }
        out.optional(Optional(3.5)) { $0.double($1) }
        var reader = WireReader(out.bytes, operation: "test", sender: 1)
        #expect(try reader.u8() == 7)
        #expect(try reader.u64() == .max)
        #expect(try reader.int() == -42)
        #expect(try reader.double().bitPattern == (-0.0).bitPattern)
        #expect(try reader.double() == .pi)
        #expect(try reader.bool())
        #expect(try reader.string() == "naïve — ok")
        #expect(try reader.data() == [0, 255, 10])
        #expect(try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.int() } == nil)
        #expect(try reader.optional { (r: inout WireReader) throws(CommunicatorError) in try r.double() } == 3.5)
        #expect(reader.isAtEnd)
    }

    @Test func aCutMessageNamesTheSenderAndOffset() {
        var out = WireWriter()
        out.string("hello")
        var reader = WireReader(Array(out.bytes.dropLast(2)), operation: "cleaning batch", sender: 3)
        #expect(throws: CommunicatorError.malformed(operation: "cleaning batch", rank: 3,
                                                    detail: "message from rank 3 at byte 8: a byte string of 5 bytes, 3 left")) {
            _ = try reader.string()
        }
    }

    @Test func gatherWithoutARootedTransportReachesRankZeroOnly() throws {
        #expect(try CommunicatorTests.Scripted(rank: 0, size: 2, leader: "").gather([1]) == [[1], [1]])
        #expect(try CommunicatorTests.Scripted(rank: 1, size: 2, leader: "").gather([1]) == [])
        #expect(try SingleProcess().gather([5]) == [[5]])
    }
}
