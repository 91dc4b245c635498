import Foundation
import Testing
@testable import LatheTensors

@Suite struct SoftcapTests {
    let count = 37

    @Test func forwardMatchesDouble() {
        var rng = SplitMix64(seed: 24)
        let x = rng.floats(count, -40, 40)
        var y = x
        softcapForward(&y, cap: 10, count: count)
        for i in 0..<count {
            let expected = Foundation.tanh(Double(x[i]) / 10) * 10
            #expect(abs(Double(y[i]) - expected) <= 1e-5)
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 25)
        let x = rng.floats(count, -15, 15), w = rng.floats(count)
        var capped = x
        softcapForward(&capped, cap: 10, count: count)
        var dx = w
        softcapBackward(&dx, capped, cap: 10, count: count)
        checkGradient("dx", x, analytic: dx) { input in
            var y = input
            softcapForward(&y, cap: 10, count: count)
            return weightedSum(w, y)
        }
    }
}
