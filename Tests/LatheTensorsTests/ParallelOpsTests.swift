import LatheSupport
import Testing
@testable import LatheTensors

/// Every op split over 3 threads gives the same numbers as on 1 thread: chunks are disjoint rows (or columns
/// for the scatter-adds), so the split may not change any sum's order. Sizes are chosen to make several chunks.
@Suite(.serialized) struct ParallelOpsTests {
    /// Runs `body` with 1 and then 3 threads and returns both results; leaves the default of 1 thread.
    func onOneAndThreeThreads(_ body: () -> [Float]) -> ([Float], [Float]) {
        Parallel.configure(threads: 1)
        let single = body()
        Parallel.configure(threads: 3)
        let multi = body()
        Parallel.configure(threads: 1)
        return (single, multi)
    }

    @Test func rowAndColumnOpsAreIdentical() {
        let n = 64, c = 200, vocab = 9, count = 50_000
        var rng = SplitMix64(seed: 90)
        let x = rng.floats(count), y = rng.floats(count), z = rng.floats(count)
        let weight = rng.floats(c, 0.5, 1.5)
        let tokens = (0..<n).map { _ in Int32(rng.int(vocab)) }
        let positions = (0..<n).map { Int32($0 * 37) }
        let frequencies = RopeFrequencies(headDim: 40, theta: 10000)
        let (single, multi) = onOneAndThreeThreads {
            var result: [Float] = []
            var out = [Float](repeating: 0, count: count), rstd = [Float](repeating: 0, count: n)
            var dx = [Float](repeating: 0, count: n * c), dWeight = [Float](repeating: 0, count: c)
            rmsNormForward(&out, &rstd, x, weight, n: n, c: c, eps: 1e-5)
            rmsNormBackward(&dx, &dWeight, y, x, weight, rstd, n: n, c: c)
            result += out[0..<(n * c)] + rstd + dx + dWeight
            var dTable = [Float](repeating: 0, count: vocab * c)
            embeddingBackward(&dTable, x, tokens, n: n, c: c)
            embeddingForward(&out, tokens, dTable, n: n, c: c)
            result += dTable + out[0..<(n * c)]
            var rotated = Array(x[0..<(n * c)])
            ropeForward(&rotated, positions, frequencies, n: n, heads: 5)
            result += rotated
            var dGate = [Float](repeating: 0, count: count), dUp = [Float](repeating: 0, count: count)
            swigluForward(&out, x, y, count: count)
            swigluBackward(&dGate, &dUp, z, x, y, count: count)
            result += out + dGate + dUp
            var da = [Float](repeating: 0, count: count), db = [Float](repeating: 0, count: count)
            residualForward(&out, x, y, count: count)
            residualBackward(&da, &db, z, count: count)
            return result + out + da + db
        }
        #expect(single == multi)
    }

    @Test func attentionAndCrossEntropyAgree() {
        let segments: [Int32] = (0..<80).map { Int32($0 / 13) }
        let problem = AttentionCase(batch: 2, tokens: 40, segments: segments, seed: 91)
        var rng = SplitMix64(seed: 92)
        let dOut = rng.floats(problem.outCount)
        let logits = rng.floats(7 * 50, -5, 5)
        let targets: [Int32] = [1, -100, 49, 0, 7, -1, 30]
        let (single, multi) = onOneAndThreeThreads {
            let (out, lse) = problem.forward()
            var dq = [Float](repeating: 0, count: problem.q.count)
            var dk = [Float](repeating: 0, count: problem.k.count), dv = [Float](repeating: 0, count: problem.v.count)
            attentionBackward(&dq, &dk, &dv, dOut, problem.q, problem.k, problem.v, out, lse, segments: segments,
                              batch: 2, tokens: 40, heads: 4, kvHeads: 2, headDim: 8)
            var losses = [Float](repeating: 0, count: 7), dLogits = [Float](repeating: 0, count: 7 * 50)
            crossEntropyForward(&losses, logits, targets, n: 7, v: 50)
            crossEntropyBackward(&dLogits, logits, targets, dLoss: 0.5, n: 7, v: 50)
            return out + lse + dq + dk + dv + losses + dLogits
        }
        // OpenBLAS may split a product differently with more threads; our own loops do not.
        var worst: Float = 0
        for i in 0..<single.count { worst = max(worst, abs(single[i] - multi[i])) }
        #expect(worst < 1e-6)
    }
}
