import Foundation
import LatheSupport
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

extension DecoderModel {
    /// Scores `(context, continuation)` token pairs. Each row is `(context + continuation)` truncated on the left to
    /// `maxLength + 1` tokens with its last token dropped, and the last `continuation.count` positions are scored —
    /// lm-eval `HFLM._loglikelihood_tokens`. Rows are sorted by length and run in padded batches of at most
    /// `batchTokens` tokens; `onBatch(done)` reports progress in pairs.
    public func scoreContinuations(_ pairs: [(context: [Int32], continuation: [Int32])], maxLength: Int,
                                   batchTokens: Int = 1024,
                                   onBatch: (Int) -> Void = { _ in }) throws -> [ContinuationScore] {
        try scoreContinuations(pairs, maxLength: maxLength, batchTokens: batchTokens, batches: { _ in true }, onBatch: onBatch)
            .map { $0! }
    }

    /// The same batches, but only those `batches` selects (by their index in run order) are run; the other pairs'
    /// scores are nil. Ranks that split the batches between them get every score exactly as one process computes
    /// it: a row's score can differ in its last bits with the rows it is batched with (the sgemm's blocking).
    ///
    /// With `sharedPrefix`, groups of at least `rows` rows whose first `tokens` or more tokens are the same (few-shot
    /// examples, a description) run those once (`PrefixGroup`); each group counts as one batch, before the padded
    /// batches of the other rows. Their scores agree with the padded batches' to fp32 rounding.
    public func scoreContinuations(_ pairs: [(context: [Int32], continuation: [Int32])], maxLength: Int,
                                   batchTokens: Int, batches selected: (Int) -> Bool,
                                   sharedPrefix: (tokens: Int, rows: Int)? = nil,
                                   onBatch: (Int) -> Void = { _ in }) throws -> [ContinuationScore?] {
        var rows = [[Int32]](), targets = [[Int32]]()
        for (context, continuation) in pairs {
            guard !continuation.isEmpty else { throw ModelError.invalidInput("a continuation has no tokens") }
            let whole = context + continuation
            let input = Array(whole.suffix(maxLength + 1).dropLast())
            guard !input.isEmpty else { throw ModelError.invalidInput("a context and continuation with a single token") }
            rows.append(input)
            targets.append(Array(continuation.suffix(input.count)))
        }
        var scores = [ContinuationScore?](repeating: nil, count: pairs.count)
        var batch = 0, done = 0, grouped = Set<Int>()
        if let sharedPrefix, config.longRope == nil {
            // LongRoPE picks its factors per pass from the longest position: such models run whole rows.
            let groups = PrefixGroup.find(rows, limits: rows.indices.map { rows[$0].count - targets[$0].count },
                                          minimumPrefix: max(1, sharedPrefix.tokens), minimumRows: sharedPrefix.rows)
            for group in groups {
                if selected(batch) {
                    let groupScores = try scoreGroup(group, rows: rows, targets: targets, batchTokens: batchTokens)
                    for (i, member) in group.members.enumerated() { scores[member] = groupScores[i] }
                }
                grouped.formUnion(group.members)
                batch += 1
                done += group.members.count
                onBatch(done)
            }
        }
        let order = rows.indices.filter { !grouped.contains($0) }.sorted { rows[$0].count > rows[$1].count }
        var start = 0
        while start < order.count {
            let length = rows[order[start]].count
            let count = max(1, min(order.count - start, batchTokens / max(length, 1)))
            if selected(batch) {
                let members = Array(order[start..<start + count])
                let batchScores = try scoreBatch(members.map { rows[$0] }, members.map { targets[$0] }, length: length)
                for (i, member) in members.enumerated() { scores[member] = batchScores[i] }
            }
            start += count
            batch += 1
            onBatch(done + start)
        }
        return scores
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
        let c = config.hiddenSize
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
        return scoreHidden(selected, wanted, counts: targets.map(\.count))
    }

    /// The scores of hidden rows (R, C), each predicting `wanted[r]`, summed per request over `counts` consecutive
    /// rows: the LM head only over these rows, then log softmax in Double (`LogSoftmax`).
    func scoreHidden(_ selected: [Float], _ wanted: [Int32], counts: [Int]) -> [ContinuationScore] {
        let vocab = config.vocabSize
        let total = wanted.count
        let span = OpProfiler.begin()   // the head's product and the log softmax: 2·C·V per scored row
        defer { OpProfiler.end(span, .lmHead, flops: Double(2 * total * config.hiddenSize * vocab)) }
        var logits = [Float](repeating: 0, count: total * vocab)   // (R, V)
        weights.withBase(TileScratch()) { base in
            lmHead(selected, rows: total, &logits, base)
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
        for count in counts {
            let range = cursor..<cursor + count
            result.append(ContinuationScore(logLikelihood: range.reduce(0) { $0 + logProbs[$1] },
                                            isGreedy: range.allSatisfy { greedy[$0] }, tokenCount: count))
            cursor += count
        }
        return result
    }
}

extension DecoderModel {
    /// Scores the continuations of one context by running the context once: its keys and values are cached and
    /// every continuation attends to them, so a question with k choices costs |context| + Σ|choice| tokens instead
    /// of k·|context|. Numerically the same computation as `scoreContinuations(_:maxLength:)` without truncation.
    public func scoreSharedContext(_ context: [Int32], continuations: [[Int32]]) throws -> [ContinuationScore] {
        guard !context.isEmpty, continuations.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.invalidInput("scoreSharedContext needs a context and non-empty continuations")
        }
        let longest = continuations.map(\.count).max() ?? 0
        if let longRope = config.longRope, context.count + longest > longRope.originalMaxPositionEmbeddings {
            // LongRoPE picks its factors per pass from the longest position: run whole sequences, as transformers does.
            return try scoreContinuations(continuations.map { (context, $0) }, maxLength: context.count + longest)
        }
        var cache = KVCache(config: config, capacity: context.count + longest)
        let first = try step(context, cache: &cache)          // (V): predicts each continuation's first token
        var logProbs = [[Double]](), greedy = [[Bool]]()
        for continuation in continuations {
            try validate(continuation)
            let (lp, best) = first.withUnsafeBufferPointer { logSoftmaxAt($0.baseAddress!, config.vocabSize, Int(continuation[0])) }
            logProbs.append([lp]); greedy.append([best])
        }
        // The rest: continuation tokens but the last are inputs, each predicting the next.
        let inputs = continuations.map { Array($0.dropLast()) }
        let total = inputs.reduce(0) { $0 + $1.count }
        if total > 0 {
            let logits = suffixLogits(inputs, cache: cache)   // (R, V)
            var row = 0
            for (i, input) in inputs.enumerated() {
                for j in input.indices {
                    let (lp, best) = logits.withUnsafeBufferPointer {
                        logSoftmaxAt($0.baseAddress! + row * config.vocabSize, config.vocabSize, Int(continuations[i][j + 1]))
                    }
                    logProbs[i].append(lp); greedy[i].append(best)
                    row += 1
                }
            }
        }
        return continuations.indices.map {
            ContinuationScore(logLikelihood: logProbs[$0].reduce(0, +), isGreedy: greedy[$0].allSatisfy { $0 },
                              tokenCount: continuations[$0].count)
        }
    }

    /// Logits (R, V) of suffix rows that each follow the cached prefix (`runSuffixes`).
    private func suffixLogits(_ suffixes: [[Int32]], cache: KVCache) -> [Float] {
        let ws = runSuffixes(suffixes, cache: cache)
        var logits = [Float](repeating: 0, count: ws.rows * config.vocabSize)    // (R, V)
        weights.withBase(ws.tile) { base in lmHead(ws.finalNormed, rows: ws.rows, &logits, base) }
        return logits
    }

    /// Runs suffix rows that each follow the cached prefix: row i of suffix s attends to the prefix and to suffix
    /// s's rows ≤ i, never to other suffixes. The final normed rows (R, C) are in the returned workspace.
    func runSuffixes(_ suffixes: [[Int32]], cache: KVCache) -> DecoderWorkspace {
        let prefix = cache.length
        let tokens = suffixes.flatMap { $0 }, n = tokens.count
        let positions = suffixes.flatMap { $0.indices.map { Int32(prefix + $0) } }
        var rowStart = [Int]()            // the first row of each row's suffix
        for suffix in suffixes {
            let start = rowStart.count
            for _ in suffix { rowStart.append(start) }
        }
        let ws = DecoderWorkspace(inference: config, rows: n)
        weights.withBase(ws.tile) { base in
            cache.keys.withUnsafeBufferPointer { keys in
                cache.values.withUnsafeBufferPointer { values in
                    rowStart.withUnsafeBufferPointer { rowStart in
                        forwardLayers(tokens, positions: positions, n: n, base, ws: ws, attention: { l in
                            .prefix(keys: keys.baseAddress! + l * cache.layerSize, values: values.baseAddress! + l * cache.layerSize,
                                    prefix: prefix, rowStart: rowStart.baseAddress!)
                        })
                    }
                }
            }
        }
        return ws
    }
}

/// log softmax of one row of logits in Double, as lm-eval scores (`F.log_softmax(logits.double())`-grade
/// precision): one pass finds the normaliser, then any entry's log-probability is a subtraction. The one copy of
/// this computation: scoring (`scoreContinuations`) and serving (`TokenLogProb`) both go through it.
public struct LogSoftmax: Sendable {
    /// The row's largest logit, as Double.
    public let maximum: Double
    /// log Σ exp(row − maximum).
    public let logTotal: Double
    /// The first index holding the maximum (torch `argmax`).
    public let argmax: Int

    /// The normaliser of `row` (V).
    public init(_ row: UnsafeBufferPointer<Float>) {
        precondition(!row.isEmpty, "log softmax of an empty row")
        var best = 0
        for i in 1..<row.count where row[i] > row[best] { best = i }
        let maximum = Double(row[best])
        var total = 0.0
        for x in row { total += Foundation.exp(Double(x) - maximum) }
        self.maximum = maximum
        logTotal = Foundation.log(total)
        argmax = best
    }

    /// log softmax(row)[i] for the entry `logit` = row[i].
    public func callAsFunction(_ logit: Float) -> Double { Double(logit) - maximum - logTotal }
}

/// log softmax(row)[target], in Double, and whether `target` is the first maximum (torch `argmax`).
private func logSoftmaxAt(_ row: UnsafePointer<Float>, _ count: Int, _ target: Int) -> (Double, Bool) {
    let normaliser = LogSoftmax(UnsafeBufferPointer(start: row, count: count))
    return (normaliser(row[target]), normaliser.argmax == target)
}
