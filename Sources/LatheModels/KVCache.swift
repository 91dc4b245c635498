import LatheTensors

/// Keys and values of every layer for one sequence being generated. Rows are positions: (capacity, KVH·D) per layer.
public struct KVCache: Sendable {
    /// Positions the cache can hold.
    public let capacity: Int
    /// Positions filled so far; the next token goes at this position.
    public internal(set) var length = 0
    /// The tokens run so far (LongRoPE recomputes them when the sequence outgrows the original context).
    var tokens: [Int32] = []
    /// Floats of one layer's keys (or values): capacity · KVH·D.
    let layerSize: Int
    var keys: [Float]       // (L, capacity, KVH·D)
    var values: [Float]     // (L, capacity, KVH·D)

    public init(config: ModelConfig, capacity: Int) {
        self.capacity = capacity
        layerSize = capacity * config.keyValueHeadCount * config.headDim
        keys = [Float](repeating: 0, count: config.layerCount * layerSize)
        values = keys
    }
}

extension DecoderModel {
    /// Runs `tokens` at positions `cache.length…`, appending their keys and values to `cache`, and returns the
    /// logits (V) after the last of them. Prefill passes the whole prompt; decoding passes one token.
    public func step(_ tokens: [Int32], cache: inout KVCache) throws -> [Float] {
        try validate(tokens)
        let n = tokens.count, start = cache.length
        guard n > 0 else { throw ModelError.invalidInput("step needs at least one token") }
        guard start + n <= cache.capacity else {
            throw ModelError.invalidInput("the sequence would reach \(start + n) tokens; the cache holds \(cache.capacity)")
        }
        if let longRope = config.longRope, start > 0, start <= longRope.originalMaxPositionEmbeddings,
           start + n > longRope.originalMaxPositionEmbeddings {
            // transformers' Phi3ForCausalLM.prepare_inputs_for_generation drops the cache when the sequence
            // outgrows original_max_position_embeddings: every key is recomputed with the long factors.
            let all = cache.tokens + tokens
            cache.length = 0
            cache.tokens = []
            return try step(all, cache: &cache)
        }
        let c = config.hiddenSize
        let positions = (0..<n).map { Int32(start + $0) }
        let ws = DecoderWorkspace(inference: config, rows: n)
        let layerSize = cache.layerSize
        weights.withBase(ws.tile) { base in
            cache.keys.withUnsafeMutableBufferPointer { keys in
                cache.values.withUnsafeMutableBufferPointer { values in
                    forwardLayers(tokens, positions: positions, n: n, base, ws: ws, attention: { l in
                        .cache(keys: keys.baseAddress! + l * layerSize, values: values.baseAddress! + l * layerSize, start: start)
                    })
                }
            }
        }
        // Only the last position's logits are needed to pick the next token.
        var logits = [Float](repeating: 0, count: config.vocabSize)
        weights.withBase(ws.tile) { base in
            lmHead(ws.finalNormed + (n - 1) * c, rows: 1, &logits, base)
        }
        cache.length += n
        cache.tokens += tokens
        return logits
    }
}
