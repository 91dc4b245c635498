import Foundation
import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct GeGLUTests {
    let count = 45

    @Test func forwardMatchesDouble() {
        var rng = SplitMix64(seed: 22)
        let gate = rng.floats(count, -6, 6), up = rng.floats(count, -2, 2)
        var out = [Float](repeating: .nan, count: count)
        gegluForward(&out, gate, up, count: count)
        for i in 0..<count {
            let g = Double(gate[i])
            let gelu = 0.5 * g * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (g + 0.044715 * g * g * g)))
            let expected = gelu * Double(up[i])
            #expect(abs(Double(out[i]) - expected) <= 1e-6 * max(1, abs(expected)))
        }
    }

    @Test func backwardMatchesFiniteDifferencesAndAccumulates() {
        var rng = SplitMix64(seed: 23)
        let gate = rng.floats(count, -4, 4), up = rng.floats(count, -2, 2), w = rng.floats(count)
        var dGate = [Float](repeating: 0, count: count), dUp = [Float](repeating: 0, count: count)
        gegluBackward(&dGate, &dUp, w, gate, up, count: count)
        func loss(_ gate: [Float], _ up: [Float]) -> Double {
            var out = [Float](repeating: 0, count: count)
            gegluForward(&out, gate, up, count: count)
            return weightedSum(w, out)
        }
        checkGradient("dGate", gate, analytic: dGate) { loss($0, up) }
        checkGradient("dUp", up, analytic: dUp) { loss(gate, $0) }

        var dGate2 = [Float](repeating: 1, count: count), dUp2 = [Float](repeating: -1, count: count)
        gegluBackward(&dGate2, &dUp2, w, gate, up, count: count)
        for i in 0..<count {
            #expect(abs(dGate2[i] - (1 + dGate[i])) < 1e-6)
            #expect(abs(dUp2[i] - (-1 + dUp[i])) < 1e-6)
        }
    }

    /// `accumulate: false` writes the gradients over whatever the buffers held (NaN here), bit for bit the
    /// values accumulated into zeros.
    @Test func backwardOverwritesWithoutAccumulating() {
        var rng = SplitMix64(seed: 23)
        let n = 1 << 13 + 5   // more than one parallel chunk, and a tail
        let gate = rng.floats(n, -4, 4), up = rng.floats(n, -2, 2), w = rng.floats(n)
        var dGate = [Float](repeating: 0, count: n), dUp = [Float](repeating: 0, count: n)
        gegluBackward(&dGate, &dUp, w, gate, up, count: n)
        var written = [Float](repeating: .nan, count: n), writtenUp = [Float](repeating: .nan, count: n)
        gegluBackward(&written, &writtenUp, w, gate, up, count: n, accumulate: false)
        #expect(written.map(\.bitPattern) == dGate.map(\.bitPattern) && writtenUp.map(\.bitPattern) == dUp.map(\.bitPattern))
    }
}
