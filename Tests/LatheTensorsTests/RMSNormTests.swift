import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct RMSNormTests {
    let n = 5, c = 19, eps: Float = 1e-5   // c = 19 covers both the SIMD body and the tail

    func forward(_ x: [Float], _ weight: [Float]) -> (out: [Float], rstd: [Float]) {
        var out = [Float](repeating: 0, count: n * c), rstd = [Float](repeating: 0, count: n)
        rmsNormForward(&out, &rstd, x, weight, n: n, c: c, eps: eps)
        return (out, rstd)
    }

    @Test func forwardMatchesDouble() {
        var rng = SplitMix64(seed: 30)
        let x = rng.floats(n * c, -3, 3), weight = rng.floats(c, 0.5, 1.5)
        let (out, rstd) = forward(x, weight)
        for row in 0..<n {
            var meanSquare = 0.0
            for j in 0..<c { meanSquare += Double(x[row * c + j]) * Double(x[row * c + j]) }
            let r = 1 / (meanSquare / Double(c) + Double(eps)).squareRoot()
            #expect(abs(Double(rstd[row]) - r) <= 1e-6 * r)
            for j in 0..<c {
                let expected = Double(x[row * c + j]) * r * Double(weight[j])
                #expect(abs(Double(out[row * c + j]) - expected) <= 1e-5 * max(1, abs(expected)))
            }
        }
    }

    @Test func backwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 31)
        let x = rng.floats(n * c, -2, 2), weight = rng.floats(c, 0.5, 1.5), w = rng.floats(n * c)
        let (_, rstd) = forward(x, weight)
        var dx = [Float](repeating: 0, count: n * c), dWeight = [Float](repeating: 0, count: c)
        rmsNormBackward(&dx, &dWeight, w, x, weight, rstd, n: n, c: c)
        checkGradient("dx", x, analytic: dx) { weightedSum(w, forward($0, weight).out) }
        checkGradient("dWeight", weight, analytic: dWeight) { weightedSum(w, forward(x, $0).out) }

        // A frozen weight (nil) gives the same dx.
        var dxFrozen = [Float](repeating: 0, count: n * c)
        rmsNormBackward(&dxFrozen, nil, w, x, weight, rstd, n: n, c: c)
        #expect(dxFrozen == dx)
    }

    @Test func backwardAccumulates() {
        var rng = SplitMix64(seed: 32)
        let x = rng.floats(n * c), weight = rng.floats(c, 0.5, 1.5), w = rng.floats(n * c)
        let (_, rstd) = forward(x, weight)
        var dx = [Float](repeating: 0, count: n * c), dWeight = [Float](repeating: 0, count: c)
        rmsNormBackward(&dx, &dWeight, w, x, weight, rstd, n: n, c: c)
        var dx2 = [Float](repeating: 0.25, count: n * c), dWeight2 = [Float](repeating: 0.25, count: c)
        rmsNormBackward(&dx2, &dWeight2, w, x, weight, rstd, n: n, c: c)
        for i in 0..<(n * c) { #expect(abs(dx2[i] - (0.25 + dx[i])) < 1e-5) }
        for j in 0..<c { #expect(abs(dWeight2[j] - (0.25 + dWeight[j])) < 1e-5) }
    }
}
