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

    /// One sequence with two key-value heads: the backward splits each pair's query blocks into parts with partial
    /// dk and dv sums. How many parts is a function of the shape alone, so 1 and 3 threads give the same bits.
    @Test func splitAttentionBackwardIsTheSameOnEveryThreadCount() {
        let problem = AttentionCase(batch: 1, tokens: 140, segments: nil, seed: 93)
        var rng = SplitMix64(seed: 94)
        let dOut = rng.floats(problem.outCount)
        let (single, multi) = onOneAndThreeThreads {
            let (out, lse) = problem.forward()
            var dq = [Float](repeating: 0, count: problem.q.count)
            var dk = [Float](repeating: 0, count: problem.k.count), dv = [Float](repeating: 0, count: problem.v.count)
            attentionBackward(&dq, &dk, &dv, dOut, problem.q, problem.k, problem.v, out, lse, segments: nil,
                              batch: 1, tokens: 140, heads: 4, kvHeads: 2, headDim: 8)
            return out + lse + dq + dk + dv
        }
        #expect(single == multi)
    }

    /// Products large enough to be split over the pool, by rows (m ≥ n) and by columns (n > m), with ragged last
    /// runs of 16, every transpose, strided operands and an accumulating beta: each is the one-thread product to the
    /// bit, and that product is the Double one within 1e-5 relative to the sum of |terms|.
    @Test func splitProductsAreTheOneThreadProducts() {
        let shapes = [(200, 40, 70), (24, 300, 64), (130, 130, 33)]   // each ≥ 4·65536 multiply-adds
        let transposes: [(Transpose, Transpose)] = [(.none, .none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)]
        var rng = SplitMix64(seed: 93)
        let pad = 3   // every row stride is the operand's width + 3
        let operands = shapes.map { m, n, k in
            (a: rng.floats(max(m, k) * (max(m, k) + pad)), b: rng.floats(max(n, k) * (max(n, k) + pad)), c: rng.floats(m * (n + pad)))
        }
        var references: [[Double]] = [], bounds: [[Double]] = []
        let (single, multi) = onOneAndThreeThreads {
            var result: [Float] = []
            for ((m, n, k), (a, b, c0)) in zip(shapes, operands) {
                for (ta, tb) in transposes {
                    let lda = (ta == .none ? k : m) + pad, ldb = (tb == .none ? n : k) + pad, ldc = n + pad
                    var c = c0
                    matmul(a, ta, lda: lda, b, tb, ldb: ldb, &c, ldc: ldc, m: m, n: n, k: k, alpha: 0.5, beta: 1)
                    result += c
                    guard references.count < shapes.count * transposes.count else { continue }
                    var reference = c0.map(Double.init), bound = [Double](repeating: 0, count: c0.count)
                    for i in 0..<m {
                        for j in 0..<n {
                            for e in 0..<k {
                                let term = 0.5 * Double(a[ta == .none ? i * lda + e : e * lda + i])
                                    * Double(b[tb == .none ? e * ldb + j : j * ldb + e])
                                reference[i * ldc + j] += term
                                bound[i * ldc + j] += abs(term)
                            }
                        }
                    }
                    references.append(reference)
                    bounds.append(bound)
                }
            }
            return result
        }
        let differing = zip(single, multi).filter { $0 != $1 }.count
        #expect(single.count == multi.count && differing == 0, "\(differing) of \(single.count) elements differ")
        var offset = 0, outside = 0
        for (reference, bound) in zip(references, bounds) {
            for (i, expected) in reference.enumerated()
            where abs(Double(multi[offset + i]) - expected) > 1e-5 * (bound[i] + abs(expected)) + 1e-6 {
                outside += 1
            }
            offset += reference.count
        }
        #expect(outside == 0, "\(outside) elements outside the bound")
    }

}
