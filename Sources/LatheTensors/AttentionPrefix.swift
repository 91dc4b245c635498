// Attention of new query rows against keys and values already computed: the KV-cache decode step and
// prefix scoring (several continuations sharing one cached context). A decode step has a row or a few, so each
// (row, head) pair is a plain loop over its visible keys. Scoring has many rows after a long shared prefix: there
// the rows of a block, stacked over the query heads of a key-value head, meet the prefix in two products (as
// `attentionForward`'s blocks do), and only each row's own short suffix is a loop.
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
    if n >= prefixBlockMinimumRows && prefix >= prefixBlockMinimumKeys {
        blockedPrefixAttention(out, q, k, v, prefixKeys: prefixKeys, prefixValues: prefixValues, rowStart: rowStart,
                               prefix: prefix, n: n, heads: heads, kvHeads: kvHeads, headDim: headDim, window: window,
                               scale: scale)
        return
    }
    let shared = UncheckedSendable((out, q, k, v, prefixKeys, prefixValues, rowStart))
    Parallel.forEachChunk(n * h) { range in
        let (out, q, k, v, prefixKeys, prefixValues, rowStart) = shared.value
        var scores = [Float](repeating: 0, count: prefix + n)
        for pair in range {
            let (i, head) = (pair / h, pair % h)
            let own = rowStart?[i] ?? 0
            let visible = prefix + i - own + 1                // keys at positions 0...position(i)
            let kvOffset = (head / group) * d
            attendRow(out + i * h * d + head * d, q + i * h * d + head * d, &scores,
                      visible: visible, window: window, headDim: d, scale: scale,
                      key: { $0 < prefix ? prefixKeys + $0 * stride + kvOffset : k + (own + $0 - prefix) * stride + kvOffset },
                      value: { $0 < prefix ? prefixValues + $0 * stride + kvOffset : v + (own + $0 - prefix) * stride + kvOffset })
        }
    }
}

/// Rows, and prefix keys, from which `prefixAttentionForward` takes the prefix in products: below them (a decode
/// step, a short context) the row loop is as fast and each row's arithmetic stays that of `sequenceAttentionForward`.
let prefixBlockMinimumRows = 8
let prefixBlockMinimumKeys = 32

/// `prefixAttentionForward` over blocks of rows: for each key-value head and block of rows, the rows of its query
/// heads are stacked into one (group · rows, D) operand; their scores against the prefix are one product, against
/// their own suffix keys a loop of dot products; the softmax runs over both; the prefix's share of the output is a
/// second product and the suffix's is added row by row.
private func blockedPrefixAttention(
    _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
    prefixKeys: UnsafePointer<Float>, prefixValues: UnsafePointer<Float>, rowStart: UnsafePointer<Int>?,
    prefix: Int, n: Int, heads h: Int, kvHeads: Int, headDim d: Int, window: Int?, scale: Float
) {
    let (group, stride) = (h / kvHeads, kvHeads * d)
    let blockRows = max(8, 96 / group)
    let blocks = (n + blockRows - 1) / blockRows
    // Every row's own keys are rows rowStart[i]...i: at most this many.
    let longestSuffix = (0..<n).map { $0 - (rowStart?[$0] ?? 0) + 1 }.max() ?? 0
    let width = prefix + longestSuffix
    let shared = UncheckedSendable((out, q, k, v, prefixKeys, prefixValues, rowStart))
    BLASThreads.serial {
        Parallel.forEachChunk(kvHeads * blocks) { tasks in
            let (out, q, k, v, prefixKeys, prefixValues, rowStart) = shared.value
            let stacked = group * blockRows
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: stacked * (width + 2 * d))
            defer { scratch.deallocate() }
            let scores = scratch                    // (group · rows, prefix + longest suffix)
            let qs = scores + stacked * width       // (group · rows, D) the rows' queries, head after head
            let outs = qs + stacked * d             // (group · rows, D) their outputs
            for task in tasks {
                let (g, r0) = (task / blocks, task % blocks * blockRows)
                let rows = min(blockRows, n - r0), m = group * rows
                for j in 0..<group {
                    for r in 0..<rows {
                        (qs + (j * rows + r) * d).update(from: q + (r0 + r) * h * d + (g * group + j) * d, count: d)
                    }
                }
                sgemm(.none, .transposed, m, prefix, d, scale, qs, d, prefixKeys + g * d, stride, 0, scores, width)
                var inverseSums = [Float](repeating: 0, count: m)
                for j in 0..<group {
                    for r in 0..<rows {
                        let (i, row) = (r0 + r, j * rows + r)
                        let (own, scored) = (rowStart?[i] ?? 0, scores + row * width)
                        let ownKeys = i - own + 1, visible = prefix + ownKeys   // keys at positions 0..<visible
                        for c in 0..<ownKeys {
                            scored[prefix + c] = dot(qs + row * d, k + (own + c) * stride + g * d, d) * scale
                        }
                        let first = window.map { max(0, visible - $0) } ?? 0
                        let top = maximum(scored + first, visible - first)
                        inverseSums[row] = 1 / expShiftedInPlace(scored + first, shift: top, visible - first)
                        scored.update(repeating: 0, count: min(first, prefix))   // before the window: no weight
                    }
                }
                sgemm(.none, .none, m, d, prefix, 1, scores, width, prefixValues + g * d, stride, 0, outs, d)
                for j in 0..<group {
                    for r in 0..<rows {
                        let (i, row) = (r0 + r, j * rows + r)
                        let (own, scored, result) = (rowStart?[i] ?? 0, scores + row * width, outs + row * d)
                        let ownKeys = i - own + 1
                        let first = window.map { max(0, prefix + ownKeys - $0) } ?? 0
                        for c in max(0, first - prefix)..<ownKeys {
                            axpy(result, scored[prefix + c], v + (own + c) * stride + g * d, d)
                        }
                        scaled(result, by: inverseSums[row], into: out + i * h * d + (g * group + j) * d, d)
                    }
                }
            }
        }
    }
}

/// `out (n, H·D)` for `n` query rows of `n` different sequences (the batched decode step): row i attends to rows
/// 0...`positions[i]` of its own cache `keys[i]`, `values[i]` (capacity, KVH·D), which already hold its key and
/// value at `positions[i]`. One parallel loop over every (row, head) pair; each pair computes exactly what
/// `prefixAttentionForward` computes for that row alone.
public func sequenceAttentionForward(
    _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
    keys: UnsafePointer<UnsafeMutablePointer<Float>>, values: UnsafePointer<UnsafeMutablePointer<Float>>,
    positions: UnsafePointer<Int>, n: Int, heads: Int, kvHeads: Int, headDim: Int, window: Int? = nil, scale: Float? = nil
) {
    checkAttentionShape(batch: 1, tokens: n, heads: heads, kvHeads: kvHeads, headDim: headDim)
    precondition((window ?? 1) > 0, "sequenceAttentionForward window=\(window ?? 0)")
    let (h, d, stride) = (heads, headDim, kvHeads * headDim)
    let group = heads / kvHeads
    let scale = scale ?? 1 / Float(d).squareRoot()
    let longest = (0..<n).map { positions[$0] }.max() ?? 0
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .attention, flops: Double(4 * d * h) * (0..<n).reduce(0.0) { $0 + Double(positions[$1] + 1) }) }
    let shared = UncheckedSendable((out, q, keys, values, positions))
    Parallel.forEachChunk(n * h) { range in
        let (out, q, keys, values, positions) = shared.value
        var scores = [Float](repeating: 0, count: longest + 1)
        for pair in range {
            let (i, head) = (pair / h, pair % h)
            let visible = positions[i] + 1
            let (k, v, kvOffset) = (keys[i], values[i], (head / group) * d)
            attendRow(out + i * h * d + head * d, q + i * h * d + head * d, &scores,
                      visible: visible, window: window, headDim: d, scale: scale,
                      key: { UnsafePointer(k + $0 * stride + kvOffset) }, value: { UnsafePointer(v + $0 * stride + kvOffset) })
        }
    }
}

/// One query row and head: softmax over the `visible` keys at positions 0..<visible (with `window`, only the last
/// `window` of them), their scaled dot products with `query` kept in `scores`, then the weighted sum of their
/// values into `result`.
@inline(__always)
private func attendRow(_ result: UnsafeMutablePointer<Float>, _ query: UnsafePointer<Float>, _ scores: inout [Float],
                       visible: Int, window: Int?, headDim d: Int, scale: Float,
                       key: (Int) -> UnsafePointer<Float>, value: (Int) -> UnsafePointer<Float>) {
    let keys = (window.map { max(0, visible - $0) } ?? 0)..<visible
    var maximum = -Float.infinity
    for j in keys {
        scores[j] = dot(query, key(j), d) * scale
        maximum = max(maximum, scores[j])
    }
    var total: Float = 0
    for j in keys { scores[j] = expf(scores[j] - maximum); total += scores[j] }
    for x in 0..<d { result[x] = 0 }
    for j in keys { axpy(result, scores[j] / total, value(j), d) }
}
