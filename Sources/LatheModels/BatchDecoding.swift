import Foundation
import LatheSupport
import LatheTensors

/// Keys and values of one sequence decoded among others (continuous batching). Like `KVCache`, but its memory
/// never moves, so one batched decode step can hand every row its own cache.
public final class SequenceCache: @unchecked Sendable {
    /// Positions the cache can hold.
    public let capacity: Int
    /// Positions filled so far; the next token goes at this position.
    public fileprivate(set) var length = 0
    /// Floats of one layer's keys (or values): capacity · KVH·D.
    let layerSize: Int
    let keys: UnsafeMutablePointer<Float>      // (L, capacity, KVH·D)
    let values: UnsafeMutablePointer<Float>    // (L, capacity, KVH·D)

    /// Bytes a cache of `positions` positions holds for a model of `config` shape (keys and values, fp32).
    public static func byteCount(config: ModelConfig, positions: Int) -> Int {
        2 * config.layerCount * positions * config.keyValueHeadCount * config.headDim * MemoryLayout<Float>.size
    }

    /// An empty cache of `capacity` positions.
    public init(config: ModelConfig, capacity: Int) {
        self.capacity = capacity
        layerSize = capacity * config.keyValueHeadCount * config.headDim
        keys = .allocate(capacity: max(1, config.layerCount * layerSize))
        values = .allocate(capacity: max(1, config.layerCount * layerSize))
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }
}

extension DecoderModel {
    /// Runs `tokens` after what `cache` holds, with `adapter` applied unmerged (PEFT's `W·x + scale·B·A·x`, so
    /// one base serves several adapters), and appends their keys and values. Returns the final normed hidden
    /// rows (n, C): `logits(hidden:rows:)` turns the ones needed into logits.
    public func prefill(_ tokens: [Int32], cache: SequenceCache, adapter: LoRAAdapter?) throws -> [Float] {
        try validate(tokens)
        let n = tokens.count, start = cache.length
        guard n > 0 else { throw ModelError.invalidInput("prefill needs at least one token") }
        guard start + n <= cache.capacity else {
            throw ModelError.invalidInput("the sequence would reach \(start + n) tokens; the cache holds \(cache.capacity)")
        }
        try checkBatchable(position: start + n)
        let positions = (0..<n).map { Int32(start + $0) }
        let ws = DecoderWorkspace(inference: config, rows: n)
        try withAdapters(adapter, rows: n) { adapters in
            weights.withBase(ws.tile) { w in
                tokens.withUnsafeBufferPointer { t in
                    positions.withUnsafeBufferPointer { p in
                        forwardLayers(t.baseAddress!, positions: p.baseAddress!, n: n, w, ws: ws, attention: { l in
                            .cache(keys: cache.keys + l * cache.layerSize, values: cache.values + l * cache.layerSize, start: start)
                        }, adapters: adapters)
                    }
                }
            }
        }
        cache.length += n
        return Array(UnsafeBufferPointer(start: ws.finalNormed, count: n * config.hiddenSize))
    }

    /// One decode step for B sequences that share `adapter`: row i feeds `tokens[i]` after `caches[i]` and
    /// returns its next-token logits (B, V). The linear layers run once over all rows — the point of batching;
    /// attention reads each row's own cache.
    public func decodeStep(_ tokens: [Int32], caches: [SequenceCache], adapter: LoRAAdapter?) throws -> [Float] {
        try validate(tokens)
        let b = tokens.count
        guard b > 0, caches.count == b else { throw ModelError.invalidInput("decodeStep needs one cache per token") }
        for cache in caches where cache.length + 1 > cache.capacity {
            throw ModelError.invalidInput("a sequence would reach \(cache.length + 1) tokens; its cache holds \(cache.capacity)")
        }
        try checkBatchable(position: (caches.map(\.length).max() ?? 0) + 1)
        let starts = caches.map(\.length)
        let positions = starts.map { Int32($0) }
        // Per layer, the B rows' key and value caches: (L, B) pointers.
        var keys = [UnsafeMutablePointer<Float>](), values = [UnsafeMutablePointer<Float>]()
        for l in 0..<config.layerCount {
            for cache in caches {
                keys.append(cache.keys + l * cache.layerSize)
                values.append(cache.values + l * cache.layerSize)
            }
        }
        let ws = DecoderWorkspace(inference: config, rows: b)
        var logits = [Float](repeating: 0, count: b * config.vocabSize)     // (B, V)
        try withAdapters(adapter, rows: b) { adapters in
            weights.withBase(ws.tile) { w in
                tokens.withUnsafeBufferPointer { t in
                    positions.withUnsafeBufferPointer { p in
                        keys.withUnsafeBufferPointer { k in
                            values.withUnsafeBufferPointer { v in
                                starts.withUnsafeBufferPointer { s in
                                    forwardLayers(t.baseAddress!, positions: p.baseAddress!, n: b, w, ws: ws, attention: { l in
                                        .sequences(keys: k.baseAddress! + l * b, values: v.baseAddress! + l * b, starts: s.baseAddress!)
                                    }, adapters: adapters)
                                }
                            }
                        }
                    }
                }
                lmHead(ws.finalNormed, rows: b, &logits, w)
            }
        }
        for cache in caches { cache.length += 1 }
        return logits
    }

    /// Logits (rows, V) of `rows` hidden rows (rows, C) taken from `hidden`, starting at row `first`.
    public func logits(hidden: [Float], first: Int, rows: Int) -> [Float] {
        precondition(first >= 0 && rows >= 0 && (first + rows) * config.hiddenSize <= hidden.count)
        var logits = [Float](repeating: 0, count: rows * config.vocabSize)
        guard rows > 0 else { return logits }
        weights.withBase(TileScratch()) { w in
            hidden.withUnsafeBufferPointer { h in
                lmHead(h.baseAddress! + first * config.hiddenSize, rows: rows, &logits, w)
            }
        }
        return logits
    }

    /// LongRoPE switches factors per pass from the largest position, which a batch of sequences at different
    /// positions cannot share: batched decoding stays within `original_max_position_embeddings`.
    private func checkBatchable(position: Int) throws {
        if let longRope = config.longRope, position > longRope.originalMaxPositionEmbeddings {
            throw ModelError.invalidInput("batched decoding of this LongRoPE model is limited to \(longRope.originalMaxPositionEmbeddings) positions")
        }
    }

    /// Each layer's adapters for an inference pass of `rows` rows (no dropout, no gradients), for `body`.
    private func withAdapters<R>(_ adapter: LoRAAdapter?, rows: Int,
                                 _ body: ((Int) -> LayerAdapters) throws -> R) throws -> R {
        guard let adapter else { return try body { _ in .none } }
        guard !adapter.config.useDoRA else {
            throw ModelError.invalidInput("a DoRA adapter is applied merged (DecoderWeights.merged(with:)): serve the "
                                          + "merged export, or load the base with the adapter merged")
        }
        guard adapter.layout.entries.allSatisfy({ $0.layer < config.layerCount }) else {
            throw ModelError.invalidInput("the adapter has layers this model lacks")
        }
        let r = adapter.config.rank
        var u = [Float](repeating: 0, count: max(1, adapter.layout.entries.count * rows * r))   // (entries, N, r)
        return try adapter.parameters.withUnsafeBufferPointer { p in
            try u.withUnsafeMutableBufferPointer { u in
                var layers = Array(repeating: LayerAdapters.none, count: config.layerCount)
                for (index, entry) in adapter.layout.entries.enumerated() {
                    let view = LoRAView(a: p.baseAddress! + entry.a, b: p.baseAddress! + entry.b, rank: r,
                                        scale: adapter.config.scale, dropout: 0, dropoutKey: 0)
                    // The forward never touches dA/dB; they point at the (read-only) matrices only to fill the slots.
                    let a = UnsafeMutablePointer(mutating: p.baseAddress! + entry.a)
                    let b = UnsafeMutablePointer(mutating: p.baseAddress! + entry.b)
                    layers[entry.layer][entry.module] = AdaptedProjection(view: view, u: u.baseAddress! + index * rows * r,
                                                                          dA: a, dB: b)
                }
                return try body { layers[$0] }
            }
        }
    }
}

/// One scored position: the log-probability of its token and the most likely tokens there (natural log).
public struct TokenLogProb: Sendable, Equatable {
    public var token: Int32
    public var logProb: Double
    /// The k most likely tokens, most likely first (ties: the lower id first, as `torch.topk`).
    public var top: [(token: Int32, logProb: Double)]

    public static func == (a: TokenLogProb, b: TokenLogProb) -> Bool {
        a.token == b.token && a.logProb == b.logProb && a.top.map(\.token) == b.top.map(\.token)
            && a.top.map(\.logProb) == b.top.map(\.logProb)
    }

    /// log softmax(`logits`)[token] in Double (`LogSoftmax`, as `scoreContinuations`) and the `top` most likely tokens.
    public init(logits: UnsafeBufferPointer<Float>, token: Int32, top k: Int) {
        let logSoftmax = LogSoftmax(logits)
        self.token = token
        logProb = logSoftmax(logits[Int(token)])
        var best = [(token: Int32, logProb: Double)]()
        if k > 0 {
            var order = [Int]()   // ids of the k largest so far, largest first
            for i in logits.indices {
                if order.count == k, logits[i] <= logits[order[k - 1]] { continue }
                var at = order.count
                while at > 0, logits[order[at - 1]] < logits[i] { at -= 1 }
                order.insert(i, at: at)
                if order.count > k { order.removeLast() }
            }
            best = order.map { (Int32($0), logSoftmax(logits[$0])) }
        }
        top = best
    }
}
