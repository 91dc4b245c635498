import Foundation
import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct CrossEntropyTests {
    let n = 6, v = 21
    let targets: [Int32] = [3, -100, 0, 20, -1, 7]   // two ignored rows

    func logits(seed: UInt64, offset: Float = 0) -> [Float] {
        var rng = SplitMix64(seed: seed)
        return rng.floats(n * v, -4, 4).map { $0 + offset }
    }

    func referenceLogLikelihood(_ logits: [Float], row: Int) -> Double {
        let values = (0..<v).map { Double(logits[row * v + $0]) }
        let m = values.max()!
        let lse = m + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - m) })
        return values[Int(targets[row])] - lse
    }

    @Test(arguments: [Float(0), 120])   // a large offset checks the max shift
    func forwardAndGatherMatchDouble(offset: Float) {
        let x = logits(seed: 50, offset: offset)
        var losses = [Float](repeating: .nan, count: n), gathered = [Float](repeating: .nan, count: n)
        crossEntropyForward(&losses, x, targets, n: n, v: v)
        logSoftmaxGather(&gathered, x, targets, n: n, v: v)
        for row in 0..<n {
            if targets[row] < 0 {
                #expect(losses[row] == 0 && gathered[row] == 0)
                continue
            }
            let expected = referenceLogLikelihood(x, row: row)
            #expect(abs(Double(gathered[row]) - expected) < 2e-5)
            #expect(abs(Double(losses[row]) + expected) < 2e-5)
        }
    }

    @Test func backwardMatchesFiniteDifferencesAndOverwrites() {
        let x = logits(seed: 51)
        let dLoss: Float = 0.37
        var dLogits = [Float](repeating: 99, count: n * v)   // overwritten, not accumulated
        crossEntropyBackward(&dLogits, x, targets, dLoss: dLoss, n: n, v: v)
        checkGradient("dLogits", x, analytic: dLogits) { x in
            var losses = [Float](repeating: 0, count: n)
            crossEntropyForward(&losses, x, targets, n: n, v: v)
            return Double(dLoss) * losses.reduce(0) { $0 + Double($1) }
        }
        for row in 0..<n where targets[row] < 0 {
            #expect(dLogits[(row * v)..<((row + 1) * v)].allSatisfy { $0 == 0 })
        }
    }

    /// The fused pass gives the forward's losses and the backward's gradient bit for bit, in place over the logits.
    @Test func fusedPassEqualsForwardThenBackward() {
        let x = logits(seed: 31, offset: 50)
        var losses = [Float](repeating: .nan, count: n), dLogits = [Float](repeating: .nan, count: n * v)
        crossEntropyForward(&losses, x, targets, n: n, v: v)
        crossEntropyBackward(&dLogits, x, targets, dLoss: 0.25, n: n, v: v)
        var fused = x, fusedLosses = [Float](repeating: .nan, count: n)
        fused.withUnsafeMutableBufferPointer { p in
            crossEntropyForwardBackward(&fusedLosses, p.baseAddress!, p.baseAddress!, targets, dLoss: 0.25, n: n, v: v)
        }
        #expect(fusedLosses.map(\.bitPattern) == losses.map(\.bitPattern))
        #expect(fused.map(\.bitPattern) == dLogits.map(\.bitPattern))
    }
}
