import Foundation
import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct VectorMathTests {
    @Test func exp8MatchesDouble() {
        var worst = 0.0
        for step in 0...17500 {
            let x = -87 + Float(step) * 0.01
            let lanes = exp8(Vector8(repeating: x))
            let expected = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(lanes[3]) - expected) / expected)
        }
        #expect(worst < 5e-7)
        #expect(exp8(Vector8(repeating: -.infinity))[0] == 0)
        #expect(exp8(Vector8(repeating: -200))[0] == 0)
    }

    @Test func dotAxpyAndMaximumHandleTails() {
        for count in [0, 1, 7, 8, 9, 31, 32, 33, 77] {
            var rng = SplitMix64(seed: UInt64(count))
            let a = rng.floats(count), b = rng.floats(count)
            var expected = 0.0
            for i in 0..<count { expected += Double(a[i]) * Double(b[i]) }
            #expect(abs(Double(dot(a, b, count)) - expected) < 1e-5)
            var y = b
            axpy(&y, 0.5, a, count)
            for i in 0..<count { #expect(y[i] == b[i] + 0.5 * a[i]) }
            if count > 0 { #expect(maximum(a, count) == a.max()!) }
        }
    }

    /// The Double-lane norm against the one-at-a-time Double sum: at most one fp32 ulp apart (the two sum the same
    /// Double squares in another order), over tails and values from 1e-25 to 1e30 whose fp32 squares would
    /// underflow or overflow.
    @Test func doubleNormMatchesTheSequentialDoubleSum() {
        for count in [0, 1, 7, 8, 9, 31, 576, 1536, 1539] {
            for magnitude: Float in [1e-25, 1, 1e30] {
                var rng = SplitMix64(seed: UInt64(count))
                let a = rng.floats(count).map { $0 * magnitude }
                var sum = 0.0
                for v in a { sum += Double(v) * Double(v) }
                let expected = Float(sum.squareRoot()), norm = doubleNorm(a, count)
                #expect(abs(norm - expected) <= expected.ulp, "count \(count) × \(magnitude): \(norm) vs \(expected)")
                #expect(count == 0 || norm > 0)
            }
        }
    }
}
