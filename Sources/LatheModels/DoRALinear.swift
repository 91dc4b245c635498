import LatheSupport
import LatheTensors

/// One DoRA adapter's magnitude and per-step buffers for a forward or backward call (Liu et al. 2024, "DoRA:
/// Weight-Decomposed Low-Rank Adaptation"; PEFT 0.21 `tuners/lora/dora.py`, `DoraLinearLayer`).
struct DoRAView {
    let magnitude: UnsafePointer<Float>         // (out) m
    /// ‖W + s·B·A‖ of each output row at this step's A, B: a constant of the step (PEFT detaches it, as the
    /// paper's section 4.3 suggests), so no gradient flows through it.
    let norm: UnsafeMutablePointer<Float>       // (out)
    let rowScale: UnsafeMutablePointer<Float>   // (out) m / ‖W + s·B·A‖
    /// `z = drop(x)·Wᵀ + s·u·Bᵀ`, the unscaled output the magnitude multiplies, saved for its gradient.
    let z: UnsafeMutablePointer<Float>          // (N, out)
    let dMagnitude: UnsafeMutablePointer<Float>?    // (out)
}

/// `norms (out) = ‖W + scale·B·A‖₂` of each output row (PEFT `get_weight_norm`: `torch.linalg.norm(dim=1)`),
/// formed 64 rows at a time in fp32 and summed in Double; without B and A, the row norms of W — DoRA's initial
/// magnitude. A quantised W is dequantised a tile at a time, as its products are.
func doraRowNorms(_ norms: UnsafeMutablePointer<Float>, weight: BoundMatrix, b: UnsafePointer<Float>?,
                  a: UnsafePointer<Float>?, rank: Int, scale: Float, out: Int, in inFeatures: Int) {
    let tileRows = 64
    let tile = UnsafeMutablePointer<Float>.allocate(capacity: tileRows * inFeatures)   // (64, in)
    defer { tile.deallocate() }
    for start in stride(from: 0, to: out, by: tileRows) {
        let count = min(tileRows, out - start)
        switch weight.matrix {
        case .dense(let offset): tile.update(from: weight.w + offset + start * inFeatures, count: count * inFeatures)
        case .quantized(let q): q.dequantize(rows: start..<(start + count), into: tile)
        }
        if let b, let a {
            // tile (rows, in) += scale · B[rows] (rows, r) · A (r, in)
            matmul(b + start * rank, .none, a, .none, tile, m: count, n: inFeatures, k: rank, alpha: scale, beta: 1)
        }
        let shared = UncheckedSendable(tile)
        Parallel.forEachChunk(count, minimumChunk: 8) { range in
            for row in range { norms[start + row] = doubleNorm(shared.value + row * inFeatures, inFeatures) }
        }
    }
}

/// Forward of a frozen linear with a DoRA adapter (PEFT `DoraLinearLayer.forward`, added to the base result):
/// `y (N, out) = x·Wᵀ + bias + (m/‖·‖ − 1) ⊙ drop(x)·Wᵀ + m/‖·‖ ⊙ s·(drop(x)·Aᵀ)·Bᵀ` — without dropout,
/// `bias + m/‖·‖ ⊙ (x·Wᵀ + s·x·Aᵀ·Bᵀ)`. Saves `u (N, r)` and `z (N, out)` for the backward; `dora.rowScale` must
/// hold m/‖W + s·B·A‖ of this step (`doraRowNorms`). `scratch (N, in)` holds drop(x) with dropout on.
func doraLinearForward(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, weight: BoundMatrix,
                       bias: UnsafePointer<Float>?, lora: LoRAView, dora: DoRAView, u: UnsafeMutablePointer<Float>,
                       scratch: UnsafeMutablePointer<Float>, rows: Int, out: Int, in inFeatures: Int) {
    var input = x
    let dropped = lora.dropout > 0
    if dropped {
        weight.forward(y, x, bias: bias, rows: rows, out: out, in: inFeatures)
        dropoutForward(scratch, x, count: rows * inFeatures, mask: lora.mask)
        input = UnsafePointer(scratch)
    }
    weight.forward(dora.z, input, bias: nil, rows: rows, out: out, in: inFeatures)
    matmul(input, .none, lora.a, .transposed, u, m: rows, n: lora.rank, k: inFeatures)
    let shared = UncheckedSendable((y, dora))
    if dropped {
        // y −= drop(x)·Wᵀ, before z gains the low-rank term: y = x·Wᵀ + bias − drop(x)·Wᵀ + m/‖·‖ ⊙ z below.
        Parallel.forEachChunk(rows * out, minimumChunk: 4096) { range in
            let (y, dora) = shared.value
            for i in range { y[i] -= dora.z[i] }
        }
    }
    matmul(u, .none, lora.b, .transposed, dora.z, m: rows, n: out, k: lora.rank, alpha: lora.scale, beta: 1)
    Parallel.forEachChunk(rows, minimumChunk: 16) { range in
        let (y, dora) = shared.value
        for r in range {
            let (yRow, zRow) = (y + r * out, dora.z + r * out)
            for j in 0..<out {
                let start: Float = dropped ? yRow[j] : bias?[j] ?? 0
                yRow[j] = start + dora.rowScale[j] * zRow[j]
            }
        }
    }
}

/// Backward of `doraLinearForward`, the norm held constant. With `g = dY` and `g' = m/‖·‖ ⊙ g`:
/// `dm (out) += Σ_rows g ⊙ z / ‖·‖`; dx (written or added, by `accumulate`), dA, dB are LoRA's
/// (`adaptedLinearBackward`) taken with g'; with dropout, `dx += (1 − mask/(1−p)) ⊙ ((g − g')·W)` for the base path
/// the dropped input bypasses.
/// `gradientScratch (N, out)`, `du (N, r)` and `scratch (N, in)` are work buffers.
func doraLinearBackward(dx: UnsafeMutablePointer<Float>?, accumulate: Bool, dA: UnsafeMutablePointer<Float>?,
                        dB: UnsafeMutablePointer<Float>?, _ dY: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                        weight: BoundMatrix, lora: LoRAView, dora: DoRAView, u: UnsafePointer<Float>,
                        du: UnsafeMutablePointer<Float>,
                        gradientScratch: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>,
                        rows: Int, out: Int, in inFeatures: Int) {
    let shared = UncheckedSendable((gradientScratch, dora))
    if let dm = dora.dMagnitude {
        let sharedDM = UncheckedSendable(dm)
        Parallel.forEachChunk(out, minimumChunk: 64) { range in
            let dora = shared.value.1
            var sums = [Double](repeating: 0, count: range.count)
            for r in 0..<rows {
                let (gRow, zRow) = (dY + r * out, dora.z + r * out)
                for j in range { sums[j - range.lowerBound] += Double(gRow[j]) * Double(zRow[j]) }
            }
            for j in range { sharedDM.value[j] += Float(sums[j - range.lowerBound] / Double(dora.norm[j])) }
        }
    }
    scaleColumns(gradientScratch, dY, dora.rowScale, rows: rows, out: out, complement: false)
    adaptedLinearBackward(dx: dx, accumulate: accumulate, dA: dA, dB: dB, UnsafePointer(gradientScratch), x, weight: weight,
                          lora: lora, u: u, du: du, scratch: scratch, rows: rows, out: out, in: inFeatures)
    guard lora.dropout > 0, let dx else { return }
    scaleColumns(gradientScratch, dY, dora.rowScale, rows: rows, out: out, complement: true)
    weight.inputGradient(scratch, gradientScratch, rows: rows, out: out, in: inFeatures, accumulate: false)
    addDropoutMasked(dx, scratch, count: rows * inFeatures, mask: lora.mask, kept: 1 - lora.mask.keepScale, dropped: 1)
}

/// `result (N, out) = dY ⊙ scale` column-wise, or `dY ⊙ (1 − scale)` with `complement`.
private func scaleColumns(_ result: UnsafeMutablePointer<Float>, _ dY: UnsafePointer<Float>, _ scale: UnsafePointer<Float>,
                          rows: Int, out: Int, complement: Bool) {
    Parallel.forEachChunk(rows, minimumChunk: 16) { range in
        for r in range {
            for j in 0..<out {
                let factor = complement ? 1 - scale[j] : scale[j]
                result[r * out + j] = dY[r * out + j] * factor
            }
        }
    }
}

extension WeightLayout.Layer {
    /// Offset of the base matrix a projection multiplies by; a fused module's matrix starts at its first part
    /// (qkv_proj at q's rows, gate_up_proj at gate's).
    func offset(of module: LoRAConfig.Module) -> Int {
        switch module {
        case .q, .qkv: q
        case .k: k
        case .v: v
        case .o: o
        case .gate, .gateUp: gate
        case .up: up
        case .down: down
        }
    }
}
