// Attention of new query rows against keys and values already computed: the KV-cache decode step and
// prefix scoring (several continuations sharing one cached context). Rows are few, so each (row, head)
// pair is a plain loop over its visible keys rather than a blocked product.
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// `out (n, H·D)` = softmax(q kᵀ · scale) v for `n` query rows that follow a prefix of `prefix` cached rows.
/// Row i is suffix row `i − rowStart[i]` of its own suffix, at position `prefix + i − rowStart[i]`; it attends to
/// every prefix row and to the rows `rowStart[i]...i` of `k`, `v` (its own suffix up to itself), never to
/// another suffix. With `window`, only keys at positions > position(i) − window are visible (sliding window).
/// A KV-cache step is the case of one suffix: `rowStart` all 0, `k`, `v` the cache rows just appended.
public func prefixAttentionForward(
    _ out: UnsafeMutablePointer<Float>,        // (n, H·D)
    _ q: UnsafePointer<Float>,                 // (n, H·D)
    _ k: UnsafePointer<Float>,                 // (n, KVH·D) the rows' own keys
    _ v: UnsafePointer<Float>,                 // (n, KVH·D)
    prefixKeys: UnsafePointer<Float>,          // (prefix, KVH·D)
    prefixValues: UnsafePointer<Float>,        // (prefix, KVH·D)
    rowStart: UnsafePointer<Int>?,             // (n) first row of each row's suffix; nil: one suffix from row 0
    prefix: Int, n: Int, heads: Int, kvHeads: Int, headDim: Int, window: Int? = nil, scale: Float? = nil
) {
    checkAttentionShape(batch: 1, tokens: n, heads: heads, kvHeads: kvHeads, headDim: headDim)
    precondition(prefix >= 0 && (window ?? 1) > 0, "prefixAttentionForward prefix=\(prefix) window=\(window ?? 0)")
    let (h, d, stride) = (heads, headDim, kvHeads * headDim)
    let group = heads / kvHeads
    let scale = scale ?? 1 / Float(d).squareRoot()
    let span = OpProfiler.begin()   // flops as if every row saw the whole prefix and its suffix up to itself
    defer { OpProfiler.end(span, .attention, flops: Double(4 * d * h * n) * (Double(prefix) + Double(n + 1) / 2)) }
    let shared = UncheckedSendable((out, q, k, v, prefixKeys, prefixValues, rowStart))
    Parallel.forEachChunk(n * h) { range in
        let (out, q, k, v, prefixKeys, prefixValues, rowStart) = shared.value
        var scores = [Float](repeating: 0, count: prefix + n)
        for pair in range {
            let (i, head) = (pair / h, pair % h)
            let own = rowStart?[i] ?? 0
            let visible = prefix + i - own + 1                // keys at positions 0...position(i)
            let first = window.map { max(0, visible - $0) } ?? 0
            let query = q + i * h * d + head * d, kvOffset = (head / group) * d
            var maximum = -Float.infinity
            for j in first..<visible {
                let key = j < prefix ? prefixKeys + j * stride + kvOffset : k + (own + j - prefix) * stride + kvOffset
                var dot: Float = 0
                for x in 0..<d { dot += query[x] * key[x] }
                scores[j] = dot * scale
                maximum = max(maximum, scores[j])
            }
            var total: Float = 0
            for j in first..<visible { scores[j] = expf(scores[j] - maximum); total += scores[j] }
            let result = out + i * h * d + head * d
            for x in 0..<d { result[x] = 0 }
            for j in first..<visible {
                let weight = scores[j] / total
                let value = j < prefix ? prefixValues + j * stride + kvOffset : v + (own + j - prefix) * stride + kvOffset
                for x in 0..<d { result[x] += weight * value[x] }
            }
        }
    }
}
