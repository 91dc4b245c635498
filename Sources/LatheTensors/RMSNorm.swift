import LatheSupport

// Root-mean-square layer norm as Hugging Face `LlamaRMSNorm` computes it in fp32:
// out = weight · (x · rstd), rstd = 1 / sqrt(mean(x²) + eps).

/// `out (N, C) = x · rstd · weight`; writes `rstd (N)` for the backward pass.
public func rmsNormForward(
    _ out: UnsafeMutablePointer<Float>,       // (N, C)
    _ rstd: UnsafeMutablePointer<Float>,      // (N)
    _ x: UnsafePointer<Float>,                // (N, C)
    _ weight: UnsafePointer<Float>,           // (C)
    n: Int, c: Int, eps: Float
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(4 * (2 * n * c + n))) }
    precondition(n >= 0 && c > 0, "rmsNormForward n=\(n) c=\(c)")
    let shared = UncheckedSendable((out, rstd, x, weight))
    Parallel.forEachChunk(n, minimumChunk: 16) { rows in
        let (out, rstd, x, weight) = shared.value
        for row in rows {
            let xr = x + row * c, outRow = out + row * c
            let r = 1 / (sumOfSquares(xr, c) / Float(c) + eps).squareRoot()
            rstd[row] = r
            let rv = Vector8(repeating: r)
            var i = 0
            while i + 8 <= c {
                store8(load8(xr + i) * rv * load8(weight + i), outRow + i)
                i += 8
            }
            while i < c { outRow[i] = xr[i] * r * weight[i]; i += 1 }
        }
    }
}

/// Accumulates `dx (N, C)` and, when given, `dWeight (C)` from `dOut (N, C)`.
/// With g = dOut·weight: dx = rstd·g − x·rstd³·mean(g·x); dWeight = Σ_rows dOut·x·rstd.
public func rmsNormBackward(
    _ dx: UnsafeMutablePointer<Float>,        // (N, C)
    _ dWeight: UnsafeMutablePointer<Float>?,  // (C), nil when the weight is frozen
    _ dOut: UnsafePointer<Float>,             // (N, C)
    _ x: UnsafePointer<Float>,                // (N, C)
    _ weight: UnsafePointer<Float>,           // (C)
    _ rstd: UnsafePointer<Float>,             // (N)
    n: Int, c: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(4 * (4 * n * c + n))) }
    precondition(n >= 0 && c > 0, "rmsNormBackward n=\(n) c=\(c)")
    let shared = UncheckedSendable((dx, dOut, x, weight, rstd))
    Parallel.forEachChunk(n, minimumChunk: 16) { rows in
        let (dx, dOut, x, weight, rstd) = shared.value
        for row in rows {
            let xr = x + row * c, gr = dOut + row * c, dxr = dx + row * c
            let r = rstd[row]
            // Σ dOut·weight·x, the projection of the gradient on x.
            var acc = Vector8()
            var i = 0
            while i + 8 <= c {
                acc += load8(gr + i) * load8(weight + i) * load8(xr + i)
                i += 8
            }
            var projection = horizontalSum(acc)
            while i < c { projection += gr[i] * weight[i] * xr[i]; i += 1 }
            let k = r * r * r * projection / Float(c)
            let rv = Vector8(repeating: r), kv = Vector8(repeating: k)
            i = 0
            while i + 8 <= c {
                let d = rv * load8(gr + i) * load8(weight + i) - kv * load8(xr + i)
                store8(load8(dxr + i) + d, dxr + i)
                i += 8
            }
            while i < c { dxr[i] += r * gr[i] * weight[i] - k * xr[i]; i += 1 }
        }
    }
    guard let dWeight else { return }
    // Split by columns so each weight gradient is summed over rows in a fixed order by one thread.
    let sharedWeight = UncheckedSendable((dWeight, dOut, x, rstd))
    Parallel.forEachChunk(c, minimumChunk: 32) { columns in
        let (dWeight, dOut, x, rstd) = sharedWeight.value
        let start = columns.lowerBound, width = columns.count
        for row in 0..<n {
            let r = rstd[row]
            let xr = x + row * c + start, gr = dOut + row * c + start, dw = dWeight + start
            let rv = Vector8(repeating: r)
            var i = 0
            while i + 8 <= width {
                store8(load8(dw + i) + load8(gr + i) * load8(xr + i) * rv, dw + i)
                i += 8
            }
            while i < width { dw[i] += gr[i] * xr[i] * r; i += 1 }
        }
    }
}
