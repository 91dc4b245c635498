// Fused log-softmax and negative log-likelihood over rows of logits. A negative target marks a row
// that does not count (padding, prompt tokens): its loss and its gradient are 0, like PyTorch's ignore_index.
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// `log Σ_j exp(row[j])`, shifted by the row maximum for stability.
@inline(__always)
private func logSumExp(_ row: UnsafePointer<Float>, _ v: Int) -> Float {
    let m = maximum(row, v)
    let shift = Vector8(repeating: m)
    var total = Vector8()
    var j = 0
    while j + 8 <= v { total += exp8(load8(row + j) - shift); j += 8 }
    var sum = horizontalSum(total)
    while j < v { sum += expf(row[j] - m); j += 1 }
    return m + log(sum)
}

/// `out[j] = exp(row[j] − max)`, the softmax's numerators, and returns the row's log-sum-exp (the same sums,
/// bit for bit, as `logSumExp`) and the numerators' sum: the gradient is then `out / sum`, one exponential per
/// logit. `out` may be `row`.
@inline(__always)
private func softmaxNumerators(_ row: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, _ v: Int) -> (Float, Float) {
    let m = maximum(row, v)
    let sum = expShifted(row, into: out, shift: m, v)
    return (m + log(sum), sum)
}

@inline(__always)
private func checkedTarget(_ targets: UnsafePointer<Int32>, _ row: Int, v: Int) -> Int {
    let target = Int(targets[row])
    precondition(target < v, "cross-entropy target \(target) at row \(row) outside vocabulary of \(v)")
    return target
}

/// `losses (N) = −log softmax(logits)[target]` per row; 0 where the target is negative.
public func crossEntropyForward(
    _ losses: UnsafeMutablePointer<Float>,    // (N)
    _ logits: UnsafePointer<Float>,           // (N, V)
    _ targets: UnsafePointer<Int32>,          // (N)
    n: Int, v: Int
) {
    logSoftmaxGather(losses, logits, targets, n: n, v: v)
    for row in 0..<n where targets[row] >= 0 { losses[row] = -losses[row] }
}

/// `dLogits (N, V) = dLoss · (softmax(logits) − onehot(target))`, OVERWRITING `dLogits`; rows with a
/// negative target are set to 0. `dLoss` is the gradient of the total loss with respect to each row's loss.
public func crossEntropyBackward(
    _ dLogits: UnsafeMutablePointer<Float>,   // (N, V)
    _ logits: UnsafePointer<Float>,           // (N, V)
    _ targets: UnsafePointer<Int32>,          // (N)
    dLoss: Float, n: Int, v: Int
) {
    precondition(n >= 0 && v > 0, "crossEntropyBackward n=\(n) v=\(v)")
    let shared = UncheckedSendable((dLogits, logits, targets))
    Parallel.forEachChunk(n) { rows in
        let (dLogits, logits, targets) = shared.value
        for row in rows {
            let target = checkedTarget(targets, row, v: v)
            let out = dLogits + row * v
            if target < 0 { out.update(repeating: 0, count: v); continue }
            let (_, sum) = softmaxNumerators(logits + row * v, into: out, v)
            scaleInPlace(out, dLoss / sum, v)
            out[target] -= dLoss
        }
    }
}

/// `crossEntropyForward` and `crossEntropyBackward` in one pass over the logits: each row's log-sum-exp is
/// computed once and serves both, bit for bit the two calls' results. `dLogits` may be `logits` (in place).
public func crossEntropyForwardBackward(
    _ losses: UnsafeMutablePointer<Float>,    // (N)
    _ dLogits: UnsafeMutablePointer<Float>,   // (N, V)
    _ logits: UnsafePointer<Float>,           // (N, V)
    _ targets: UnsafePointer<Int32>,          // (N)
    dLoss: Float, n: Int, v: Int
) {
    precondition(n >= 0 && v > 0, "crossEntropyForwardBackward n=\(n) v=\(v)")
    let span = OpProfiler.begin()   // read the logits twice (maximum, sum of exponentials), write the gradient
    defer { OpProfiler.end(span, .elementwise, bytes: Double(12 * n * v)) }
    let shared = UncheckedSendable((losses, dLogits, logits, targets))
    Parallel.forEachChunk(n) { rows in
        let (losses, dLogits, logits, targets) = shared.value
        for row in rows {
            let target = checkedTarget(targets, row, v: v)
            let out = dLogits + row * v
            if target < 0 { losses[row] = 0; out.update(repeating: 0, count: v); continue }
            let input = logits + row * v
            let targetLogit = input[target]   // read before `out`, which may be `input`, is overwritten
            let (lse, sum) = softmaxNumerators(input, into: out, v)
            losses[row] = -(targetLogit - lse)
            scaleInPlace(out, dLoss / sum, v)
            out[target] -= dLoss
        }
    }
}

/// `out (N) = log softmax(logits)[target]` per row (the log-likelihood of each target); 0 where the target is negative.
public func logSoftmaxGather(
    _ out: UnsafeMutablePointer<Float>,       // (N)
    _ logits: UnsafePointer<Float>,           // (N, V)
    _ targets: UnsafePointer<Int32>,          // (N)
    n: Int, v: Int
) {
    precondition(n >= 0 && v > 0, "logSoftmaxGather n=\(n) v=\(v)")
    let shared = UncheckedSendable((out, logits, targets))
    Parallel.forEachChunk(n) { rows in
        let (out, logits, targets) = shared.value
        for row in rows {
            let target = checkedTarget(targets, row, v: v)
            if target < 0 { out[row] = 0; continue }
            let input = logits + row * v
            out[row] = input[target] - logSumExp(input, v)
        }
    }
}
