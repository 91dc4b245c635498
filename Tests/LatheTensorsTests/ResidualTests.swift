import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct ResidualTests {
    let count = 37   // not a multiple of 8: covers the scalar tail

    @Test func forwardAdds() {
        var rng = SplitMix64(seed: 10)
        let a = rng.floats(count), b = rng.floats(count)
        var out = [Float](repeating: .nan, count: count)
        residualForward(&out, a, b, count: count)
        for i in 0..<count { #expect(out[i] == a[i] + b[i]) }
    }

    @Test func backwardMatchesFiniteDifferences() {
        var rng = SplitMix64(seed: 11)
        let a = rng.floats(count), b = rng.floats(count), w = rng.floats(count)
        var da = [Float](repeating: 0, count: count), db = [Float](repeating: 0, count: count)
        residualBackward(&da, &db, w, count: count)
        func loss(_ a: [Float], _ b: [Float]) -> Double {
            var out = [Float](repeating: 0, count: count)
            residualForward(&out, a, b, count: count)
            return weightedSum(w, out)
        }
        checkGradient("da", a, analytic: da) { loss($0, b) }
        checkGradient("db", b, analytic: db) { loss(a, $0) }
    }

    @Test func backwardAccumulatesIntoSharedBuffer() {
        let dOut = (0..<count).map { Float($0) }
        var d = [Float](repeating: 1, count: count)
        d.withUnsafeMutableBufferPointer { p in
            residualBackward(p.baseAddress!, p.baseAddress!, dOut, count: count)
        }
        for i in 0..<count { #expect(d[i] == 1 + 2 * dOut[i]) }
    }
}
