import LatheSupport
import LatheTensors

/// One adapter's matrices and settings for a forward or backward call.
struct LoRAView {
    let a: UnsafePointer<Float>     // (r, in)
    let b: UnsafePointer<Float>     // (out, r)
    let rank: Int
    let scale: Float
    /// Dropout probability on the adapter's input (PEFT `lora_dropout`); 0 disables it.
    let dropout: Float
    /// Counter-RNG key for this (seed, step, layer, module): the mask is recomputed, never stored.
    let dropoutKey: UInt64

    /// The dropout mask on the adapter's input, by element index of the (N, in) input.
    var mask: DropoutMask { DropoutMask(key: dropoutKey, p: dropout) }
}

/// Forward of a frozen linear with an optional adapter (PEFT `lora.Linear.forward`):
/// `y (N, out) = x (N, in)·Wᵀ + bias + scale · (drop(x)·Aᵀ)·Bᵀ`.
/// Saves `u (N, r) = drop(x)·Aᵀ` for the backward; `scratch` holds drop(x) (N, in) when dropout is on.
func adaptedLinearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: BoundMatrix,
                          bias: UnsafePointer<Float>?, lora: LoRAView?, u: UnsafeMutablePointer<Float>?,
                          scratch: UnsafeMutablePointer<Float>, rows: Int, out: Int, in inFeatures: Int) {
    weight.forward(y, x, bias: bias, rows: rows, out: out, in: inFeatures)
    guard let lora, let u else { return }
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .loraMatmul, flops: Double(2 * rows * lora.rank * (inFeatures + out))) }
    var input = x
    if lora.dropout > 0 {
        dropoutForward(scratch, x, count: rows * inFeatures, mask: lora.mask)
        input = UnsafePointer(scratch)
    }
    matmul(input, .none, lora.a, .transposed, u, m: rows, n: lora.rank, k: inFeatures)
    matmul(u, .none, lora.b, .transposed, y, m: rows, n: out, k: lora.rank, alpha: lora.scale, beta: 1)
}

/// Backward of `adaptedLinearForward`. The base weight is frozen: no weight-gradient GEMM for it.
/// `dx (N, in) += dY·W + scale·((dY·B)·A) ⊙ mask/(1−p)` (`=` without `accumulate`: the first projection of an
/// input writes its gradient, the others add), `dA (r, in) += scale·(dY·B)ᵀ·drop(x)`, `dB (out, r) += scale·dYᵀ·u`.
/// `du (N, r)` and `scratch (N, in)` are work buffers.
func adaptedLinearBackward(dx: UnsafeMutablePointer<Float>?, accumulate: Bool, dA: UnsafeMutablePointer<Float>?,
                           dB: UnsafeMutablePointer<Float>?, _ dY: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                           weight: BoundMatrix, lora: LoRAView?, u: UnsafePointer<Float>?, du: UnsafeMutablePointer<Float>,
                           scratch: UnsafeMutablePointer<Float>, rows: Int, out: Int, in inFeatures: Int) {
    if let dx { weight.inputGradient(dx, dY, rows: rows, out: out, in: inFeatures, accumulate: accumulate) }
    guard let lora, let u else { return }
    let span = OpProfiler.begin()   // dB, du, dA, then dx's low-rank term
    defer { OpProfiler.end(span, .loraMatmul, flops: Double(2 * rows * lora.rank * (2 * out + (dx == nil ? 1 : 2) * inFeatures))) }
    if let dB { matmul(dY, .transposed, u, .none, dB, m: out, n: lora.rank, k: rows, alpha: lora.scale, beta: 1) }
    // du (N, r) = scale · dY · B
    matmul(dY, .none, lora.b, .none, du, m: rows, n: lora.rank, k: out, alpha: lora.scale)
    var input = x
    if lora.dropout > 0 {
        dropoutForward(scratch, x, count: rows * inFeatures, mask: lora.mask)
        input = UnsafePointer(scratch)
    }
    if let dA { matmul(du, .transposed, input, .none, dA, m: lora.rank, n: inFeatures, k: rows, beta: 1) }
    guard let dx else { return }
    if lora.dropout == 0 {
        matmul(du, .none, lora.a, .none, dx, m: rows, n: inFeatures, k: lora.rank, beta: 1)
        return
    }
    // dx += (du·A) ⊙ mask/(1−p): form du·A in scratch, then apply the same mask.
    matmul(du, .none, lora.a, .none, scratch, m: rows, n: inFeatures, k: lora.rank)
    addDropoutMasked(dx, scratch, count: rows * inFeatures, mask: lora.mask, kept: lora.mask.keepScale, dropped: nil)
}
