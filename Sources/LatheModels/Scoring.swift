import Foundation
import LatheTensors

/// The log-likelihood of one continuation given its context, as lm-eval's `HFLM._loglikelihood_tokens` reports it.
public struct ContinuationScore: Sendable, Equatable {
    /// Σ log p(continuation token | everything before it), natural log.
    public var logLikelihood: Double
    /// True when every continuation token is the argmax of its position's logits.
    public var isGreedy: Bool
    /// Continuation tokens actually scored (fewer than given only when the pair was longer than `maxLength + 1`).
    public var tokenCount: Int
}

extension LlamaModel {
    /// Scores `(context, continuation)` token pairs. Each row is `(context + continuation)` truncated on the left to
    /// `maxLength + 1` tokens with its last token dropped, and the last `continuation.count` positions are scored —
    /// lm-eval `HFLM._loglikelihood_tokens`. Rows are sorted by length and run in padded batches of at most
    /// `batchTokens` tokens; `onBatch(done)` reports progress in pairs.
    public func scoreContinuations(_ pairs: [(context: [Int32], continuation: [Int32])], maxLength: Int,
                                   batchTokens: Int = 1024,
                                   onBatch: (Int) -> Void = { _ in }) throws -> [ContinuationScore] {
        var rows = [[Int32]](), targets = [[Int32]]()
        for (context, continuation) in pairs {
            guard !continuation.isEmpty else { throw ModelError.invalidInput("a continuation has no tokens") }
            let whole = context + continuation
            let input = Array(whole.suffix(maxLength + 1).dropLast())
            guard !input.isEmpty else { throw ModelError.invalidInput("a context and continuation with a single token") }
            rows.append(input)
            targets.append(Array(continuation.suffix(input.count)))
        }
        let order = rows.indices.sorted { rows[$0].count > rows[$1].count }
        var scores = [ContinuationScore?](repeating: nil, count: pairs.count)
        var start = 0
        while start < order.count {
            let length = rows[order[start]].count
            let count = max(1, min(order.count - start, batchTokens / max(length, 1)))
            let members = Array(order[start..<start + count])
            let batchScores = try scoreBatch(members.map { rows[$0] }, members.map { targets[$0] }, length: length)
            for (i, member) in members.enumerated() { scores[member] = batchScores[i] }
            start += count
            onBatch(start)
        }
        return scores.map { $0! }
    }

    /// Scores the continuations of one shared context (the choices of a multiple-choice question) in one batch.
    public func scoreContinuations(context: [Int32], continuations: [[Int32]], maxLength: Int) throws -> [ContinuationScore] {
        try scoreContinuations(continuations.map { (context, $0) }, maxLength: maxLength, batchTokens: Int.max / 2)
    }

    /// Right-pads `rows` to `length`, runs them as one batch and scores each row's last `targets[i].count` positions.
    private func scoreBatch(_ rows: [[Int32]], _ targets: [[Int32]], length: Int) throws -> [ContinuationScore] {
        // Right padding is invisible to the real tokens under the causal mask; padded positions are not scored.
        let padded = rows.map { $0 + [Int32](repeating: 0, count: length - $0.count) }
        let batch = try Batch(rows: padded)
        let hidden = try hiddenStates(batch)            // (B·T, C)
        let (c, vocab) = (config.hiddenSize, config.vocabSize)
        var selected = [Float]()                        // (R, C): the hidden rows whose next token is scored
        var wanted = [Int32]()                          // (R)
        for (b, row) in rows.enumerated() {
            try validate(targets[b])
            let first = row.count - targets[b].count
            for (j, target) in targets[b].enumerated() {
                let offset = (b * length + first + j) * c
                selected.append(contentsOf: hidden[offset..<offset + c])
                wanted.append(target)
            }
        }
        let total = wanted.count
        var logits = [Float](repeating: 0, count: total * vocab)   // (R, V)
        weights.withWeights { w in
            matmul(selected, .none, w + weights.layout.lmHead, .transposed, &logits, m: total, n: vocab, k: c)
        }
        var logProbs = [Double](repeating: 0, count: total), greedy = [Bool](repeating: false, count: total)
        logits.withUnsafeBufferPointer { all in
            logProbs.withUnsafeMutableBufferPointer { lp in
                greedy.withUnsafeMutableBufferPointer { gr in
                    Parallel.forEachChunk(total, minimumChunk: 4) { range in
                        for r in range { (lp[r], gr[r]) = logSoftmaxAt(all.baseAddress! + r * vocab, vocab, Int(wanted[r])) }
                    }
                }
            }
        }
        var result = [ContinuationScore](), cursor = 0
        for target in targets {
            let range = cursor..<cursor + target.count
            result.append(ContinuationScore(logLikelihood: range.reduce(0) { $0 + logProbs[$1] },
                                            isGreedy: range.allSatisfy { greedy[$0] }, tokenCount: target.count))
            cursor += target.count
        }
        return result
    }
}

/// log softmax(row)[target], in Double, and whether `target` is the first maximum (torch `argmax`).
private func logSoftmaxAt(_ row: UnsafePointer<Float>, _ count: Int, _ target: Int) -> (Double, Bool) {
    var best = 0
    for i in 1..<count where row[i] > row[best] { best = i }
    let maximum = Double(row[best])
    var total = 0.0
    for i in 0..<count { total += Foundation.exp(Double(row[i]) - maximum) }
    return (Double(row[target]) - maximum - Foundation.log(total), best == target)
}

extension LlamaWeights {
    /// The weights with `adapter` folded in (`W += scale · B·A` per adapted projection, PEFT `merge`), so an
    /// adapter is evaluated at base-model speed.
    public func addingLoRA(_ adapter: LoRAAdapter) -> LlamaWeights {
        var result = self
        let rank = adapter.config.rank, scale = adapter.config.scale
        result.storage.withUnsafeMutableBufferPointer { w in
            adapter.parameters.withUnsafeBufferPointer { p in
                for entry in adapter.layout.entries {
                    let layer = layout.layers[entry.layer]
                    let offsets: [LoRAConfig.Module: Int] = [.q: layer.q, .k: layer.k, .v: layer.v, .o: layer.o,
                                                             .gate: layer.gate, .up: layer.up, .down: layer.down]
                    // W (out, in) += scale · B (out, r) · A (r, in)
                    matmul(p.baseAddress! + entry.b, .none, p.baseAddress! + entry.a, .none, w.baseAddress! + offsets[entry.module]!,
                           m: entry.outFeatures, n: entry.inFeatures, k: rank, alpha: scale, beta: 1)
                }
            }
        }
        return result
    }
}
