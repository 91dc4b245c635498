import Foundation
import LatheSupport
import LatheTensors

/// Keys and values of every layer for one sequence being generated. Rows are positions: (capacity, KVH·D) per layer.
public struct KVCache: Sendable {
    /// Positions the cache can hold.
    public let capacity: Int
    /// Positions filled so far; the next token goes at this position.
    public internal(set) var length = 0
    var keys: [[Float]]     // L × (capacity, KVH·D)
    var values: [[Float]]   // L × (capacity, KVH·D)

    public init(config: ModelConfig, capacity: Int) {
        self.capacity = capacity
        let rowSize = config.keyValueHeadCount * config.headDim
        keys = Array(repeating: [Float](repeating: 0, count: capacity * rowSize), count: config.layerCount)
        values = keys
    }
}

extension LlamaModel {
    /// Runs `tokens` at positions `cache.length…`, appending their keys and values to `cache`, and returns the
    /// logits (V) after the last of them. Prefill passes the whole prompt; decoding passes one token.
    public func step(_ tokens: [Int32], cache: inout KVCache) throws -> [Float] {
        try validate(tokens)
        let n = tokens.count, start = cache.length
        guard n > 0 else { throw ModelError.invalidInput("step needs at least one token") }
        guard start + n <= cache.capacity else {
            throw ModelError.invalidInput("the sequence would reach \(start + n) tokens; the cache holds \(cache.capacity)")
        }
        let (c, h, kvh, d) = (config.hiddenSize, config.headCount, config.keyValueHeadCount, config.headDim)
        let positions = (0..<n).map { Int32(start + $0) }
        let normed = decoderStack(tokens, positions: positions) { l, out, q, k, v in
            cache.keys[l].withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: start * kvh * d).update(from: k, count: n * kvh * d) }
            cache.values[l].withUnsafeMutableBufferPointer { $0.baseAddress!.advanced(by: start * kvh * d).update(from: v, count: n * kvh * d) }
            if start == 0 {
                // A fresh prompt attends only to itself: the batched op is faster than the cache walk.
                var lse = [Float](repeating: 0, count: n * h)  // (1, H, n)
                attentionForward(out, &lse, q, k, v, segments: nil, batch: 1, tokens: n, heads: h, kvHeads: kvh, headDim: d)
            } else {
                cachedAttention(out, q, keys: cache.keys[l], values: cache.values[l], start: start, n: n)
            }
        }
        // Only the last position's logits are needed to pick the next token.
        var logits = [Float](repeating: 0, count: config.vocabSize)
        weights.withWeights { w in
            normed.withUnsafeBufferPointer { hp in
                matmul(hp.baseAddress! + (n - 1) * c, .none, w + weights.layout.lmHead, .transposed, &logits,
                       m: 1, n: config.vocabSize, k: c)
            }
        }
        cache.length += n
        return logits
    }

    /// Causal attention of `n` new query rows (positions start..<start+n) against the cache rows 0..<start+n.
    /// q and out are (n, H·D); keys and values are (capacity, KVH·D).
    private func cachedAttention(_ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
                                 keys: UnsafePointer<Float>, values: UnsafePointer<Float>, start: Int, n: Int) {
        let (h, kvh, d) = (config.headCount, config.keyValueHeadCount, config.headDim)
        let group = h / kvh
        let scale = 1 / Float(d).squareRoot()
        Parallel.forEachChunk(n * h) { range in
            var scores = [Float](repeating: 0, count: start + n)
            for pair in range {
                let (i, head) = (pair / h, pair % h)
                let visible = start + i + 1
                let query = q + i * h * d + head * d
                let kvOffset = (head / group) * d
                var maximum = -Float.infinity
                for j in 0..<visible {
                    let key = keys + j * kvh * d + kvOffset
                    var dot: Float = 0
                    for x in 0..<d { dot += query[x] * key[x] }
                    scores[j] = dot * scale
                    maximum = max(maximum, scores[j])
                }
                var total: Float = 0
                for j in 0..<visible { scores[j] = exp(scores[j] - maximum); total += scores[j] }
                let result = out + i * h * d + head * d
                for x in 0..<d { result[x] = 0 }
                for j in 0..<visible {
                    let weight = scores[j] / total
                    let value = values + j * kvh * d + kvOffset
                    for x in 0..<d { result[x] += weight * value[x] }
                }
            }
        }
    }
}
