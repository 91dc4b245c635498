// Causal grouped-query self-attention, flash-attention style: scores are formed one block of queries at a
// time, the forward keeps only the log-sum-exp of each query row, and the backward recomputes probabilities
// from it. The query heads that share a key-value head are stacked into one product per block (SmolLM2's three
// heads of 32 rows make 96), so each block packs its keys and values once for the group; blocks are short so the
// causal diagonal's upper triangle, computed and then masked, stays a small part of the work. Tasks are split over
// threads with `forEachChunk`; inside a task, products run through single-threaded `cblas_sgemm`
// (`BLASThreads.serial`) and the softmax between them on the same thread, so no thread waits between products.
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// Query rows per block when `group` query heads share a key-value head: the group's blocks stack to about 96
/// rows of one product (the M of its GEMMs), and each block wastes R²/2 masked scores per head on its diagonal.
private func queryBlockRows(group: Int, tokens: Int) -> Int {
    min(tokens, max(32, 96 / group))
}

/// Where one (batch, key-value head) pair's operands start, and their row strides.
private struct GroupView {
    let k, v: UnsafePointer<Float>   // (T, ·) row stride kvStride, at this pair's key-value head
    let qStride, kvStride: Int
    /// Offset of the pair's key-value head within k, v, dk and dv.
    let kvOffset: Int
    /// Offset of the group's first query head within q, out, dq and dOut.
    let qOffset: Int
    let group: Int

    init(_ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, b: Int, g: Int, tokens: Int, heads: Int, kvHeads: Int,
         headDim: Int) {
        group = heads / kvHeads
        qStride = heads * headDim
        kvStride = kvHeads * headDim
        kvOffset = b * tokens * kvStride + g * headDim
        qOffset = b * tokens * qStride + g * group * headDim
        self.k = k + kvOffset
        self.v = v + kvOffset
    }

    /// Copies rows `i0 ..< i0 + rows` of the group's heads out of `source` (a (T, H·D) operand) into `stacked`
    /// (group · rows, D), head after head.
    func stack(_ source: UnsafePointer<Float>, into stacked: UnsafeMutablePointer<Float>, i0: Int, rows: Int, headDim d: Int) {
        for j in 0..<group {
            for r in 0..<rows {
                (stacked + (j * rows + r) * d).update(from: source + qOffset + (i0 + r) * qStride + j * d, count: d)
            }
        }
    }

    /// The inverse of `stack`: `target` rows `i0 ..< i0 + rows` of the group's heads = `stacked`, each stacked row
    /// multiplied by its entry of `scales` (group · rows) when given.
    func unstack(_ stacked: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, i0: Int, rows: Int, headDim d: Int,
                 scales: UnsafePointer<Float>? = nil) {
        for j in 0..<group {
            for r in 0..<rows {
                let (from, to) = (stacked + (j * rows + r) * d, target + qOffset + (i0 + r) * qStride + j * d)
                if let scales { scaled(from, by: scales[j * rows + r], into: to, d) } else { to.update(from: from, count: d) }
            }
        }
    }
}

/// The query blocks of a sequence ordered first, last, second, second-to-last…: consecutive tasks alternate short
/// and long causal rows, so any contiguous run of them (a thread's chunk) carries about its share of the work.
private func balancedBlockOrder(_ blocks: Int) -> [Int] {
    (0..<blocks).map { $0 % 2 == 0 ? $0 / 2 : blocks - 1 - $0 / 2 }
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
/// With `lse` nil (the forward) each row becomes exp(score − max), its log-sum-exp is written to `lseOut` and the
/// inverse of its sum to `inverseSums`: the forward divides the row's output (D values) by the sum instead of the
/// row's `width` probabilities. With `lse` given (the backward), probabilities are recomputed as exp(score − lse).
private func probabilities(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int, firstRow: Int, lo: Int,
                           segments: UnsafePointer<Int32>?, windowStart: UnsafePointer<Int>?,
                           lse: UnsafePointer<Float>?, lseOut: UnsafeMutablePointer<Float>?,
                           inverseSums: UnsafeMutablePointer<Float>?) {
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
            inverseSums![r] = 1 / sum
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
    let (t, d, group) = (tokens, headDim, heads / kvHeads)
    let scale = scale ?? 1 / Float(d).squareRoot()
    let blockRows = queryBlockRows(group: group, tokens: t)
    let blockOrder = balancedBlockOrder((t + blockRows - 1) / blockRows)
    let firstKeys = (0..<batch).map { b in firstVisibleKeys(segments.map { $0 + b * t }, tokens: t, window: window) }
    let span = OpProfiler.begin()   // each visible (query, key) pair costs 2·D for q·k and 2·D for p·v per head
    defer { OpProfiler.end(span, .attention, flops: Double(4 * d * heads * firstKeys.reduce(0) { $0 + visiblePairs($1) })) }
    // One task per (sequence, key-value head, query block), each on one thread with single-threaded products: no
    // thread meets another between the products, and each block's arithmetic is the same whatever the thread count.
    let shared = UncheckedSendable((out, logSumExp, q, k, v, segments))
    BLASThreads.serial {
        Parallel.forEachChunk(batch * kvHeads * blockOrder.count) { tasks in
            let (out, logSumExp, q, k, v, segments) = shared.value
            let stackedRows = group * blockRows
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: stackedRows * (t + 2 * d + 1))
            defer { scratch.deallocate() }
            let scores = scratch                               // (group · rows, ≤ T)
            let qs = scratch + stackedRows * t                 // (group · rows, D) the group's queries
            let outs = qs + stackedRows * d                    // (group · rows, D) their unnormalised outputs
            let inverseSums = outs + stackedRows * d           // (group · rows) 1 / Σ exp(score − max) of each row
            for task in tasks {
                let (b, g) = (task / blockOrder.count / kvHeads, task / blockOrder.count % kvHeads)
                let i0 = blockOrder[task % blockOrder.count] * blockRows, rows = min(blockRows, t - i0)
                let view = GroupView(k, v, b: b, g: g, tokens: t, heads: heads, kvHeads: kvHeads, headDim: d)
                let (m, kvs) = (group * rows, view.kvStride)
                firstKeys[b].withUnsafeBufferPointer { first in
                    let lo = first[i0..<(i0 + rows)].min()!, width = i0 + rows - lo
                    view.stack(q, into: qs, i0: i0, rows: rows, headDim: d)
                    sgemm(.none, .transposed, m, width, d, scale, qs, d, view.k + lo * kvs, kvs, 0, scores, width)
                    for j in 0..<group {
                        probabilities(scores + j * rows * width, rows: rows, width: width, firstRow: i0, lo: lo,
                                      segments: segments.map { $0 + b * t }, windowStart: window == nil ? nil : first.baseAddress,
                                      lse: nil, lseOut: logSumExp + (b * heads + g * group + j) * t + i0,
                                      inverseSums: inverseSums + j * rows)
                    }
                    sgemm(.none, .none, m, d, width, 1, scores, width, view.v + lo * kvs, kvs, 0, outs, d)
                    view.unstack(outs, into: out, i0: i0, rows: rows, headDim: d, scales: inverseSums)
                }
            }
        }
    }
}

/// Writes `dq (B·T, H·D)`, `dk` and `dv (B·T, KVH·D)` from `dOut (B·T, H·D)`, recomputing each block's
/// probabilities from q, k and the forward's `logSumExp (B, H, T)`. With P the probabilities and
/// Δᵢ = dOutᵢ·outᵢ: dv = Pᵀ dOut, dS = P ⊙ (dOut vᵀ − Δ) · scale, dq = dS k, dk = dSᵀ q. Their previous
/// contents are never read: each task clears its own columns of dk and dv, in parallel, instead of the caller
/// zeroing all three serially.
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
    let (t, d, group) = (tokens, headDim, heads / kvHeads)
    let scale = scale ?? 1 / Float(d).squareRoot()
    let blockRows = queryBlockRows(group: group, tokens: t)
    let firstKeys = (0..<batch).map { b in firstVisibleKeys(segments.map { $0 + b * t }, tokens: t, window: window) }
    let span = OpProfiler.begin()   // per visible pair and head: q·k recomputed, dv, dP, dq and dk, 2·D each
    defer { OpProfiler.end(span, .attention, flops: Double(10 * d * heads * firstKeys.reduce(0) { $0 + visiblePairs($1) })) }
    // One task per (sequence, key-value head, part): a part's query blocks add into its dk and dv in order, as one
    // thread would, each task on one thread with single-threaded products. Each query row's dq is one product's row.
    // Part 0 of a pair adds into dk and dv; the others into partial sums, added after them in order of part.
    let blockOrder = balancedBlockOrder((t + blockRows - 1) / blockRows)
    let parts = backwardParts(pairs: batch * kvHeads, blocks: blockOrder.count)
    let partialCount = attentionBackwardPartialFloats(batch: batch, tokens: t, heads: heads, kvHeads: kvHeads, headDim: d) / 2
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: 2 * partialCount)   // (pair, part ≥ 1, T, D) dk, then dv
    defer { partials.deallocate() }
    let shared = UncheckedSendable((dq, dk, dv, dOut, q, k, v, out, logSumExp, segments, partials))
    BLASThreads.serial {
        Parallel.forEachChunk(batch * kvHeads * parts) { tasks in
            let (dq, dk, dv, dOut, q, k, v, out, logSumExp, segments, partials) = shared.value
            let stackedRows = group * blockRows
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: stackedRows * (2 * t + 3 * d))
            defer { scratch.deallocate() }
            let p = scratch                                // (group · rows, ≤ T) probabilities
            let dS = p + stackedRows * t                   // (group · rows, ≤ T) dP, then dS
            let qs = dS + stackedRows * t                  // (group · rows, D) the group's queries
            let dOuts = qs + stackedRows * d               // (group · rows, D) their output gradients
            let dqs = dOuts + stackedRows * d              // (group · rows, D) their query gradients
            for task in tasks {
                let (pair, part) = (task / parts, task % parts)
                let (b, g) = (pair / kvHeads, pair % kvHeads)
                let view = GroupView(k, v, b: b, g: g, tokens: t, heads: heads, kvHeads: kvHeads, headDim: d)
                let (qStride, kvs) = (view.qStride, view.kvStride)
                // Where this part's dk and dv go, and their row stride.
                let (dkGroup, dvGroup, gradientStride) = part == 0
                    ? (dk + view.kvOffset, dv + view.kvOffset, view.kvStride)
                    : (partials + (pair * (parts - 1) + part - 1) * t * d,
                       partials + partialCount + (pair * (parts - 1) + part - 1) * t * d, d)
                for row in 0..<t {
                    (dkGroup + row * gradientStride).update(repeating: 0, count: d)
                    (dvGroup + row * gradientStride).update(repeating: 0, count: d)
                }
                firstKeys[b].withUnsafeBufferPointer { first in
                    let ownBlocks = blockOrder[(blockOrder.count * part / parts)..<(blockOrder.count * (part + 1) / parts)]
                    for i0 in ownBlocks.sorted().map({ $0 * blockRows }) {
                        let rows = min(blockRows, t - i0), m = group * rows
                        let lo = first[i0..<(i0 + rows)].min()!, width = i0 + rows - lo
                        view.stack(q, into: qs, i0: i0, rows: rows, headDim: d)
                        view.stack(dOut, into: dOuts, i0: i0, rows: rows, headDim: d)
                        sgemm(.none, .transposed, m, width, d, scale, qs, d, view.k + lo * kvs, kvs, 0, p, width)
                        for j in 0..<group {
                            probabilities(p + j * rows * width, rows: rows, width: width, firstRow: i0, lo: lo,
                                          segments: segments.map { $0 + b * t }, windowStart: window == nil ? nil : first.baseAddress,
                                          lse: logSumExp + (b * heads + g * group + j) * t + i0, lseOut: nil, inverseSums: nil)
                        }
                        // dv[keys] += Pᵀ dOut, summed over the group's heads by the one product
                        sgemm(.transposed, .none, width, d, m, 1, p, width, dOuts, d, 1, dvGroup + lo * gradientStride, gradientStride)
                        // dP = dOut vᵀ
                        sgemm(.none, .transposed, m, width, d, 1, dOuts, d, view.v + lo * kvs, kvs, 0, dS, width)
                        for j in 0..<group {
                            let rowsAt = view.qOffset + i0 * qStride + j * d
                            scoreGradient(dS + j * rows * width, p + j * rows * width, dOut + rowsAt, out + rowsAt,
                                          stride: qStride, rows: rows, width: width, headDim: d, scale: scale)
                        }
                        // dq = dS k ; dk[keys] += dSᵀ q
                        sgemm(.none, .none, m, d, width, 1, dS, width, view.k + lo * kvs, kvs, 0, dqs, d)
                        view.unstack(dqs, into: dq, i0: i0, rows: rows, headDim: d)
                        sgemm(.transposed, .none, width, d, m, 1, dS, width, qs, d, 1, dkGroup + lo * gradientStride, gradientStride)
                    }
                }
            }
        }
    }
    if parts > 1 { addPartials(partials, partialCount, parts: parts, into: dk, dv, batch: batch, tokens: t, kvHeads: kvHeads, headDim: d) }
}

/// Parts each (sequence, key-value head) pair's backward is split into: enough tasks for `minimumBackwardTasks`
/// when there are few pairs (one sequence of a model with one to three key-value heads would otherwise leave
/// threads idle), at most `maximumBackwardParts`, and never more than the query blocks. A function of the shape
/// alone, so the sums are the same whatever the thread count.
private func backwardParts(pairs: Int, blocks: Int) -> Int {
    max(1, min(blocks, maximumBackwardParts, (minimumBackwardTasks + pairs - 1) / pairs))
}

/// Floats of the partial dk and dv sums `attentionBackward` allocates for its duration (0 when it splits nothing):
/// what a memory plan counts for it.
public func attentionBackwardPartialFloats(batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int) -> Int {
    let blockRows = queryBlockRows(group: heads / kvHeads, tokens: tokens)
    let parts = backwardParts(pairs: batch * kvHeads, blocks: (tokens + blockRows - 1) / blockRows)
    return 2 * batch * kvHeads * (parts - 1) * tokens * headDim
}

/// Tasks the backward aims for: a few per thread of a small machine.
private let minimumBackwardTasks = 8
/// Parts per pair at most: each part past the first holds partial dk and dv sums of (T, D).
private let maximumBackwardParts = 4

/// `dk`, `dv` (B·T, KVH·D) += each pair's partial sums (parts 1 ..< `parts`, each (T, D)), in order of part.
private func addPartials(_ partials: UnsafePointer<Float>, _ partialCount: Int, parts: Int, into dk: UnsafeMutablePointer<Float>,
                         _ dv: UnsafeMutablePointer<Float>, batch: Int, tokens t: Int, kvHeads: Int, headDim d: Int) {
    let shared = UncheckedSendable((partials, dk, dv))
    Parallel.forEachChunk(batch * t, minimumChunk: 64) { rows in
        let (partials, dk, dv) = shared.value
        for row in rows {
            let (b, i) = (row / t, row % t)
            for g in 0..<kvHeads {
                let pair = b * kvHeads + g, target = row * kvHeads * d + g * d
                for part in 1..<parts {
                    let from = (pair * (parts - 1) + part - 1) * t * d + i * d
                    addInPlace(dk + target, partials + from, d)
                    addInPlace(dv + target, partials + partialCount + from, d)
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
