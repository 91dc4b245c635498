import Testing
@testable import LatheFormats

@Suite("fp16 and bf16 conversion")
struct HalfFloatTests {
    @Test func f16ToFloatMatchesNumpy() throws {
        let bits = try Fixture.halves("dequant/f16.bin")
        expectBitExact(bits.map(HalfFloat.float(fromF16:)), try Fixture.floats("dequant/f16.f32"), "f16")
    }

    @Test func bf16ToFloatMatchesGGUFPy() throws {
        let bits = try Fixture.halves("dequant/bf16.bin")
        expectBitExact(bits.map(HalfFloat.float(fromBF16:)), try Fixture.floats("dequant/bf16.f32"), "bf16")
    }

    @Test func roundingToNearestEvenMatchesNumpyAndGGML() throws {
        let input = try Fixture.floats("dequant/round.input.f32")
        #expect(input.map(HalfFloat.f16(from:)) == (try Fixture.halves("dequant/round.f16")))
        #expect(input.map(HalfFloat.bf16(from:)) == (try Fixture.halves("dequant/round.bf16")))
    }

    @Test func everyHalfSurvivesARoundTrip() {
        for h in 0 ... UInt16.max {
            let x = HalfFloat.float(fromF16: h)
            if x.isNaN { continue }
            #expect(HalfFloat.f16(from: x) == h)
        }
        #expect(HalfFloat.float(fromF16: HalfFloat.f16(from: .nan)).isNaN)
        #expect(HalfFloat.float(fromBF16: HalfFloat.bf16(from: .nan)).isNaN)
    }
}
