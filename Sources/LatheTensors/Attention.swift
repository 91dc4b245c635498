// Causal grouped-query self-attention, flash-attention style: scores are formed one block of queries at a
// time (at most `queryBlockRows` × T floats), the forward keeps only the log-sum-exp of each query row,
// and the backward recomputes probabilities from it. Heads (forward) and key-value heads (backward) are split
// over threads with `forEachChunk`; inside a task, products run through single-threaded `cblas_sgemm`
// (`BLASThreads.serial`) and the softmax between them on the same thread, so no thread waits between products.
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// Query rows per score block: the scratch is this many rows of T floats (1 MiB at T = 2048).
private let queryBlockRows = 128

/// Where one (batch, head) pair's operands start, and their row strides.
private struct HeadView {
    let q, k, v: UnsafePointer<Float>   // q (T, ·) row stride qStride; k, v (T, ·) row stride kvStride
    let qStride, kvStride: Int
    /// Offset of this pair's key-value head within k, v, dk and dv.
    let kvOffset: Int

    init(_ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
         b: Int, h: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int) {
        let g = h / (heads / kvHeads)
        qStride = heads * headDim
        kvStride = kvHeads * headDim
        kvOffset = b * tokens * kvStride + g * headDim
        self.q = q + b * tokens * qStride + h * headDim
        self.k = k + kvOffset
        self.v = v + kvOffset
    }
}

/// For each token of one sequence, the first key it may attend to: 0 without segments, else the earliest
/// token with the same segment id; with a sliding `window`, never earlier than `window − 1` tokens back.
/// Keys before a block's smallest value are skipped entirely.
private func firstVisibleKeys(_ segments: UnsafePointer<Int32>?, tokens: Int, window: Int?) -> [Int] {
    var firstSeen: [Int32: Int] = [:]
    return (0..<tokens).map { i in
        var first = 0
        if let segments {
            if let seen = firstSeen[segments[i]] { first = seen } else { firstSeen[segments[i]] = i; first = i }
        }
        if let window { first = max(first, i - window + 1) }
        return first
    }
}

/// The (query, key) pairs a sequence attends over: Σᵢ (i − firstKeys[i] + 1).
private func visiblePairs(_ firstKeys: [Int]) -> Int {
    firstKeys.enumerated().reduce(0) { $0 + $1.offset - $1.element + 1 }
}

/// Shape checks shared by forward and backward.
func checkAttentionShape(batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int) {
    precondition(batch >= 0 && tokens >= 0 && heads > 0 && kvHeads > 0 && headDim > 0,
                 "attention batch=\(batch) tokens=\(tokens) heads=\(heads) kvHeads=\(kvHeads) headDim=\(headDim)")
    precondition(heads % kvHeads == 0, "attention: \(heads) heads do not split into \(kvHeads) key-value heads")
}

/// Turns one block of scaled scores `p (rows, width)` (column c is key `lo + c`) into probabilities in place:
/// masked keys (after the query, in another segment, or before `windowStart[i]` when windowed) get 0.
/// With `lse` nil the row log-sum-exp is computed and written to `lseOut`; otherwise probabilities are
/// recomputed as exp(score − lse).
private func probabilities(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int, firstRow: Int, lo: Int,
                           segments: UnsafePointer<Int32>?, windowStart: UnsafePointer<Int>?,
                           lse: UnsafePointer<Float>?, lseOut: UnsafeMutablePointer<Float>?) {
    for r in 0..<rows {
        let i = firstRow + r, row = p + r * width
        let visible = i - lo + 1   // columns 0..<visible hold keys lo...i
        if let segments {
            let own = segments[i]
            for c in 0..<visible where segments[lo + c] != own { row[c] = -.infinity }
        }
        if let windowStart {
            for c in 0..<(windowStart[i] - lo) { row[c] = -.infinity }
        }
        if let lse {
            _ = expShiftedInPlace(row, shift: lse[r], visible)
        } else {
            let m = maximum(row, visible)
            let sum = expShiftedInPlace(row, shift: m, visible)
            lseOut![r] = m + log(sum)
            let inverse = Vector8(repeating: 1 / sum)
            var c = 0
            while c + 8 <= visible { store8(load8(row + c) * inverse, row + c); c += 8 }
            while c < visible { row[c] *= inverse[0]; c += 1 }
        }
        (row + visible).update(repeating: 0, count: width - visible)
    }
}

/// `out (B·T, H·D)` = softmax(q kᵀ / √D, causal, same segment) v for every head, with head h reading
/// key-value head h / (H / KVH). Writes `logSumExp (B, H, T)` for the backward pass.
/// `segments (B·T)`, when given, stops a token from attending to earlier tokens of another segment; `window`,
/// when given, to keys `window` or more positions back (Mistral's sliding window). `scale` defaults to 1/√D.
public func attentionForward(
    _ out: UnsafeMutablePointer<Float>,       // (B·T, H·D)
    _ logSumExp: UnsafeMutablePointer<Float>, // (B, H, T)
    _ q: UnsafePointer<Float>,                // (B·T, H·D)
    _ k: UnsafePointer<Float>,                // (B·T, KVH·D)
    _ v: UnsafePointer<Float>,                // (B·T, KVH·D)
    segments: UnsafePointer<Int32>?,          // (B·T)
    batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int, window: Int? = nil, scale: Float? = nil
) {
    checkAttentionShape(batch: batch, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim)
    if batch == 0 || tokens == 0 { return }
    let (t, d) = (tokens, headDim)
    let scale = scale ?? 1 / Float(d).squareRoot()
    let blockRows = min(queryBlockRows, t)
    let firstKeys = (0..<batch).map { b in firstVisibleKeys(segments.map { $0 + b * t }, tokens: t, window: window) }
    let span = OpProfiler.begin()   // each visible (query, key) pair costs 2·D for q·k and 2·D for p·v per head
    defer { OpProfiler.end(span, .attention, flops: Double(4 * d * heads * firstKeys.reduce(0) { $0 + visiblePairs($1) })) }
    // One task per (sequence, head), each on one thread with single-threaded products: no thread meets
    // another between the products, and each head's arithmetic is the same whatever the thread count.
    let shared = UncheckedSendable((out, logSumExp, q, k, v, segments))
    BLASThreads.serial {
        Parallel.forEachChunk(batch * heads) { tasks in
            let (out, logSumExp, q, k, v, segments) = shared.value
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * t)   // (blockRows, ≤ T)
            defer { scores.deallocate() }
            for task in tasks {
                let (b, h) = (task / heads, task % heads)
                let batchSegments = segments.map { $0 + b * t }
                let view = HeadView(q, k, v, b: b, h: h, tokens: t, heads: heads, kvHeads: kvHeads, headDim: d)
                let outHead = out + b * t * view.qStride + h * d
                let lseHead = logSumExp + (b * heads + h) * t
                firstKeys[b].withUnsafeBufferPointer { first in
                    for i0 in stride(from: 0, to: t, by: blockRows) {
                        let rows = min(blockRows, t - i0)
                        let lo = first[i0..<(i0 + rows)].min()!, width = i0 + rows - lo
                        sgemm(.none, .transposed, rows, width, d, scale, view.q + i0 * view.qStride, view.qStride,
                              view.k + lo * view.kvStride, view.kvStride, 0, scores, width)
                        probabilities(scores, rows: rows, width: width, firstRow: i0, lo: lo, segments: batchSegments,
                                      windowStart: window == nil ? nil : first.baseAddress, lse: nil, lseOut: lseHead + i0)
                        sgemm(.none, .none, rows, d, width, 1, scores, width, view.v + lo * view.kvStride, view.kvStride,
                              0, outHead + i0 * view.qStride, view.qStride)
                    }
                }
            }
        }
    }
}

/// Accumulates `dq (B·T, H·D)`, `dk` and `dv (B·T, KVH·D)` from `dOut (B·T, H·D)`, recomputing each block's
/// probabilities from q, k and the forward's `logSumExp (B, H, T)`. With P the probabilities and
/// Δᵢ = dOutᵢ·outᵢ: dv += Pᵀ dOut, dS = P ⊙ (dOut vᵀ − Δ) · scale, dq += dS k, dk += dSᵀ q.
/// `segments`, `window` and `scale` as in `attentionForward`.
public func attentionBackward(
    _ dq: UnsafeMutablePointer<Float>,        // (B·T, H·D)
    _ dk: UnsafeMutablePointer<Float>,        // (B·T, KVH·D)
    _ dv: UnsafeMutablePointer<Float>,        // (B·T, KVH·D)
    _ dOut: UnsafePointer<Float>,             // (B·T, H·D)
    _ q: UnsafePointer<Float>,                // (B·T, H·D)
    _ k: UnsafePointer<Float>,                // (B·T, KVH·D)
    _ v: UnsafePointer<Float>,                // (B·T, KVH·D)
    _ out: UnsafePointer<Float>,              // (B·T, H·D)
    _ logSumExp: UnsafePointer<Float>,        // (B, H, T)
    segments: UnsafePointer<Int32>?,          // (B·T)
    batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int, window: Int? = nil, scale: Float? = nil
) {
    checkAttentionShape(batch: batch, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: headDim)
    if batch == 0 || tokens == 0 { return }
    let (t, d) = (tokens, headDim)
    let scale = scale ?? 1 / Float(d).squareRoot()
    let blockRows = min(queryBlockRows, t)
    let group = heads / kvHeads
    let firstKeys = (0..<batch).map { b in firstVisibleKeys(segments.map { $0 + b * t }, tokens: t, window: window) }
    let span = OpProfiler.begin()   // per visible pair and head: q·k recomputed, dv, dP, dq and dk, 2·D each
    defer { OpProfiler.end(span, .attention, flops: Double(10 * d * heads * firstKeys.reduce(0) { $0 + visiblePairs($1) })) }
    // One task per (sequence, key-value head): the heads sharing it add into its dk and dv in head order, as
    // one thread would, each task on one thread with single-threaded products.
    let shared = UncheckedSendable((dq, dk, dv, dOut, q, k, v, out, logSumExp, segments))
    BLASThreads.serial {
        Parallel.forEachChunk(batch * kvHeads) { tasks in
            let (dq, dk, dv, dOut, q, k, v, out, logSumExp, segments) = shared.value
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * blockRows * t)
            defer { scratch.deallocate() }
            let p = scratch                              // (blockRows, ≤ T) probabilities
            let dS = scratch + blockRows * t             // (blockRows, ≤ T) dP, then dS
            for task in tasks {
                let (b, g) = (task / kvHeads, task % kvHeads)
                let batchSegments = segments.map { $0 + b * t }
                for h in (g * group)..<((g + 1) * group) {
                    let view = HeadView(q, k, v, b: b, h: h, tokens: t, heads: heads, kvHeads: kvHeads, headDim: d)
                    let headOffset = b * t * view.qStride + h * d
                    let (dqHead, dOutHead, outHead) = (dq + headOffset, dOut + headOffset, out + headOffset)
                    let (dkHead, dvHead) = (dk + view.kvOffset, dv + view.kvOffset)
                    let lseHead = logSumExp + (b * heads + h) * t
                    firstKeys[b].withUnsafeBufferPointer { first in
                        for i0 in stride(from: 0, to: t, by: blockRows) {
                            let rows = min(blockRows, t - i0)
                            let lo = first[i0..<(i0 + rows)].min()!, width = i0 + rows - lo
                            let (qs, kvs) = (view.qStride, view.kvStride)
                            sgemm(.none, .transposed, rows, width, d, scale, view.q + i0 * qs, qs,
                                  view.k + lo * kvs, kvs, 0, p, width)
                            probabilities(p, rows: rows, width: width, firstRow: i0, lo: lo, segments: batchSegments,
                                          windowStart: window == nil ? nil : first.baseAddress, lse: lseHead + i0, lseOut: nil)
                            // dv[keys] += Pᵀ dOut
                            sgemm(.transposed, .none, width, d, rows, 1, p, width, dOutHead + i0 * qs, qs,
                                  1, dvHead + lo * kvs, kvs)
                            // dP = dOut vᵀ
                            sgemm(.none, .transposed, rows, width, d, 1, dOutHead + i0 * qs, qs,
                                  view.v + lo * kvs, kvs, 0, dS, width)
                            scoreGradient(dS, p, dOutHead + i0 * qs, outHead + i0 * qs, stride: qs,
                                          rows: rows, width: width, headDim: d, scale: scale)
                            // dq += dS k ; dk[keys] += dSᵀ q
                            sgemm(.none, .none, rows, d, width, 1, dS, width, view.k + lo * kvs, kvs,
                                  1, dqHead + i0 * qs, qs)
                            sgemm(.transposed, .none, width, d, rows, 1, dS, width, view.q + i0 * qs, qs,
                                  1, dkHead + lo * kvs, kvs)
                        }
                    }
                }
            }
        }
    }
}

/// `dS (rows, width) = scale · P ⊙ (dP − Δ)` in place over dP, with Δ (rows) = Σ_d dOut·out per query row.
private func scoreGradient(_ dS: UnsafeMutablePointer<Float>, _ p: UnsafePointer<Float>, _ dOut: UnsafePointer<Float>,
                           _ out: UnsafePointer<Float>, stride: Int, rows: Int, width: Int, headDim: Int, scale: Float) {
    for r in 0..<rows {
        let delta = dot(dOut + r * stride, out + r * stride, headDim)
        let shift = Vector8(repeating: delta), s = Vector8(repeating: scale)
        let dRow = dS + r * width, pRow = p + r * width
        var c = 0
        while c + 8 <= width { store8(s * load8(pRow + c) * (load8(dRow + c) - shift), dRow + c); c += 8 }
        while c < width { dRow[c] = scale * pRow[c] * (dRow[c] - delta); c += 1 }
    }
}
