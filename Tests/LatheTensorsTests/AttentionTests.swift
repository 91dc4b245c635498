import Foundation
import LatheSupport
import Testing
@testable import LatheTensors

/// One attention problem: shapes, inputs, optional segment ids and optional sliding window.
struct AttentionCase: Sendable, CustomStringConvertible {
    let batch, tokens, heads, kvHeads, headDim: Int
    let segments: [Int32]?
    let window: Int?
    let q, k, v: [Float]

    init(batch: Int, tokens: Int, heads: Int = 4, kvHeads: Int = 2, headDim: Int = 8, segments: [Int32]?,
         window: Int? = nil, seed: UInt64) {
        (self.batch, self.tokens, self.heads, self.kvHeads, self.headDim) = (batch, tokens, heads, kvHeads, headDim)
        self.segments = segments
        self.window = window
        var rng = SplitMix64(seed: seed)
        q = rng.floats(batch * tokens * heads * headDim, -1.5, 1.5)
        k = rng.floats(batch * tokens * kvHeads * headDim, -1.5, 1.5)
        v = rng.floats(batch * tokens * kvHeads * headDim)
    }

    var description: String {
        "B=\(batch) T=\(tokens) H=\(heads) KVH=\(kvHeads) D=\(headDim) segments=\(segments != nil) window=\(window ?? 0)"
    }
    var outCount: Int { batch * tokens * heads * headDim }

    func forward(q: [Float]? = nil, k: [Float]? = nil, v: [Float]? = nil) -> (out: [Float], lse: [Float]) {
        var out = [Float](repeating: .nan, count: outCount)
        var lse = [Float](repeating: .nan, count: batch * heads * tokens)
        attentionForward(&out, &lse, q ?? self.q, k ?? self.k, v ?? self.v, segments: segments,
                         batch: batch, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim, window: window)
        return (out, lse)
    }

    /// Naive Double reference: explicit scores, mask, softmax and weighted sum per (b, h, i).
    func reference() -> (out: [Double], lse: [Double]) {
        let (t, d) = (tokens, headDim)
        var out = [Double](repeating: 0, count: outCount), lse = [Double](repeating: 0, count: batch * heads * t)
        for b in 0..<batch {
            for h in 0..<heads {
                let g = h / (heads / kvHeads)
                for i in 0..<t {
                    var scores = [Double](repeating: -.infinity, count: t)
                    for j in 0...i where (segments == nil || segments![b * t + j] == segments![b * t + i])
                        && (window == nil || i - j < window!) {
                        var s = 0.0
                        for e in 0..<d {
                            s += Double(q[(b * t + i) * heads * d + h * d + e]) * Double(k[(b * t + j) * kvHeads * d + g * d + e])
                        }
                        scores[j] = s / Double(d).squareRoot()
                    }
                    let m = scores.max()!
                    let total = scores.reduce(0) { $0 + Foundation.exp($1 - m) }
                    lse[(b * heads + h) * t + i] = m + Foundation.log(total)
                    for j in 0...i {
                        let p = Foundation.exp(scores[j] - m) / total
                        for e in 0..<d { out[(b * t + i) * heads * d + h * d + e] += p * Double(v[(b * t + j) * kvHeads * d + g * d + e]) }
                    }
                }
            }
        }
        return (out, lse)
    }
}

@Suite struct AttentionTests {
    static let packed: [Int32] = [0, 0, 1, 1, 1, 2, 5, 5, 5, 5, 6, 6]   // B=2, T=6: samples never see each other
    // T=140 spans two query blocks of 128; segments start mid-block so key ranges begin after 0.
    static let longSegments: [Int32] = (0..<140).map { $0 < 60 ? 0 : ($0 < 135 ? 1 : 2) }
    // B=2, T=75: each sequence holds two samples, the second starting at token 40.
    static let twoSegmentsEach: [Int32] = (0..<150).map { (i: Int) -> Int32 in
        let sample: Int = i % 75 < 40 ? 0 : 1
        return Int32(2 * (i / 75) + sample)
    }
    static let cases = [
        AttentionCase(batch: 2, tokens: 5, headDim: 4, segments: nil, seed: 60),
        AttentionCase(batch: 2, tokens: 6, headDim: 4, segments: packed, seed: 61),
        AttentionCase(batch: 1, tokens: 140, segments: nil, seed: 62),
        AttentionCase(batch: 1, tokens: 140, segments: longSegments, seed: 63),
        AttentionCase(batch: 2, tokens: 6, headDim: 4, segments: packed, window: 2, seed: 64),
        AttentionCase(batch: 1, tokens: 140, segments: nil, window: 50, seed: 65),
        // Three query heads per key-value head (SmolLM2's grouping) stack into blocks of 32 rows: T=75 makes three
        // blocks, the last one short, with a segment starting mid-block.
        AttentionCase(batch: 2, tokens: 75, heads: 6, kvHeads: 2, segments: twoSegmentsEach, seed: 66),
        // No sharing (heads = key-value heads): blocks of 96 rows.
        AttentionCase(batch: 1, tokens: 100, heads: 2, kvHeads: 2, segments: nil, window: 30, seed: 67),
    ]

    @Test(arguments: cases)
    func forwardMatchesDouble(problem: AttentionCase) {
        let (out, lse) = problem.forward()
        let (expectedOut, expectedLse) = problem.reference()
        var worstOut = 0.0, worstLse = 0.0
        for i in 0..<out.count { worstOut = max(worstOut, abs(Double(out[i]) - expectedOut[i])) }
        for i in 0..<lse.count { worstLse = max(worstLse, abs(Double(lse[i]) - expectedLse[i])) }
        #expect(worstOut < 2e-5)
        #expect(worstLse < 2e-5)
    }

    @Test(arguments: cases)
    func backwardMatchesFiniteDifferences(problem: AttentionCase) {
        var rng = SplitMix64(seed: 70)
        let w = rng.floats(problem.outCount)
        let (out, lse) = problem.forward()
        var dq = [Float](repeating: 0, count: problem.q.count)
        var dk = [Float](repeating: 0, count: problem.k.count), dv = [Float](repeating: 0, count: problem.v.count)
        attentionBackward(&dq, &dk, &dv, w, problem.q, problem.k, problem.v, out, lse, segments: problem.segments,
                          batch: problem.batch, tokens: problem.tokens, heads: problem.heads,
                          kvHeads: problem.kvHeads, headDim: problem.headDim, window: problem.window)
        // Small cases: every element. T=140 (two query blocks): three random directions per input,
        // which checks every element's gradient in aggregate at a cost the debug build can afford.
        let inputs: [(String, [Float], [Float], ([Float]) -> [Float])] = [
            ("dq", problem.q, dq, { problem.forward(q: $0).out }),
            ("dk", problem.k, dk, { problem.forward(k: $0).out }),
            ("dv", problem.v, dv, { problem.forward(v: $0).out }),
        ]
        for (name, input, analytic, forward) in inputs {
            if problem.tokens <= 8 {
                checkGradient(name, input, analytic: analytic) { weightedSum(w, forward($0)) }
            } else {
                checkDirectionalDerivatives(name, input, analytic: analytic, rng: &rng) { weightedSum(w, forward($0)) }
            }
        }
    }

    /// The gradients are written, not added: whatever the buffers held before is gone.
    @Test func backwardOverwritesItsGradients() {
        let problem = Self.cases[1]
        var rng = SplitMix64(seed: 71)
        let dOut = rng.floats(problem.outCount)
        let (out, lse) = problem.forward()
        func run(_ dq: inout [Float], _ dk: inout [Float], _ dv: inout [Float]) {
            attentionBackward(&dq, &dk, &dv, dOut, problem.q, problem.k, problem.v, out, lse, segments: problem.segments,
                              batch: problem.batch, tokens: problem.tokens, heads: problem.heads,
                              kvHeads: problem.kvHeads, headDim: problem.headDim)
        }
        var dq = [Float](repeating: 0, count: problem.q.count)
        var dk = [Float](repeating: 0, count: problem.k.count), dv = [Float](repeating: 0, count: problem.v.count)
        run(&dq, &dk, &dv)
        var dq2 = [Float](repeating: 1, count: dq.count), dk2 = [Float](repeating: .nan, count: dk.count)
        var dv2 = [Float](repeating: -3, count: dv.count)
        run(&dq2, &dk2, &dv2)
        #expect(dq2 == dq)
        #expect(dk2 == dk)
        #expect(dv2 == dv)
        #expect(dq.contains { $0 != 0 } && dk.contains { $0 != 0 } && dv.contains { $0 != 0 })
    }

    /// One sequence of a model with two key-value heads is two (sequence, head) pairs: the backward splits each
    /// pair's query blocks into parts with partial dk and dv sums. Four copies of the sequence make eight pairs,
    /// which are not split: the first copy's gradients must be the single sequence's, to rounding (the sums are
    /// taken in another order). Adding the partial sums twice, or dropping one, is off by the size of the gradient.
    @Test func splitBackwardGivesTheUnsplitSums() {
        let one = Self.cases[2]   // B=1 T=140 H=4 KVH=2: three query blocks, three parts
        #expect(one.batch == 1 && one.kvHeads == 2 && one.tokens == 140)
        var rng = SplitMix64(seed: 72)
        let dOut = rng.floats(one.outCount)
        let (out, lse) = one.forward()
        func gradients(copies: Int) -> (dq: [Float], dk: [Float], dv: [Float]) {
            func repeated(_ x: [Float]) -> [Float] { Array([[Float]](repeating: x, count: copies).joined()) }
            let lseCopies = repeated(lse)   // (B, H, T): one sequence's rows, then the next's
            var dq = [Float](repeating: .nan, count: copies * one.q.count)
            var dk = [Float](repeating: .nan, count: copies * one.k.count), dv = [Float](repeating: .nan, count: copies * one.v.count)
            attentionBackward(&dq, &dk, &dv, repeated(dOut), repeated(one.q), repeated(one.k), repeated(one.v), repeated(out),
                              lseCopies, segments: nil, batch: copies, tokens: one.tokens, heads: one.heads,
                              kvHeads: one.kvHeads, headDim: one.headDim)
            return (Array(dq.prefix(one.q.count)), Array(dk.prefix(one.k.count)), Array(dv.prefix(one.v.count)))
        }
        let (split, unsplit) = (gradients(copies: 1), gradients(copies: 4))
        for (name, a, b) in [("dq", split.dq, unsplit.dq), ("dk", split.dk, unsplit.dk), ("dv", split.dv, unsplit.dv)] {
            let scale = b.map(abs).max()!
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(scale > 0.1 && worst <= 1e-5 * scale, "\(name): worst difference \(worst) against largest \(scale)")
        }
    }
}
