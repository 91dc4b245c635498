// Gemma's MLP activation: out = gelu_tanh(gate) · up, with the tanh approximation of GELU that transformers
// calls "gelu_pytorch_tanh": gelu(g) = ½·g·(1 + tanh(β·(g + κ·g³))), β = √(2/π), κ = 0.044715
// (PyTorch `gelu(approximate="tanh")`, aten/src/ATen/native/cpu/Activation.cpp).
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

private let beta: Float = 0.7978845608028654   // √(2/π): M_SQRT2 · M_2_SQRTPI · 0.5
private let kappa: Float = 0.044715

/// `out = gelu_tanh(gate) · up`, element-wise over `count` values.
public func gegluForward(
    _ out: UnsafeMutablePointer<Float>,       // (N, F)
    _ gate: UnsafePointer<Float>,             // (N, F)
    _ up: UnsafePointer<Float>,               // (N, F)
    count: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(12 * count)) }
    precondition(count >= 0, "gegluForward count=\(count)")
    let shared = UncheckedSendable((out, gate, up))
    Parallel.forEachChunk(count, minimumChunk: 1 << 12) { range in
        let (out, gate, up) = shared.value
        for i in range {
            let g = gate[i]
            let inner = beta * (g + kappa * (g * g * g))
            out[i] = 0.5 * g * (1 + tanhf(inner)) * up[i]
        }
    }
}

/// Accumulates `dGate += dOut · up · gelu'(g)` and `dUp += dOut · gelu(g)`, with
/// gelu'(g) = ½(1 + t) + ½·g·(1 − t²)·β·(1 + 3κg²), t = tanh(β(g + κg³)); with `accumulate` false, writes them
/// instead (`=`), so the caller needs no zeroing pass first.
public func gegluBackward(
    _ dGate: UnsafeMutablePointer<Float>,     // (N, F)
    _ dUp: UnsafeMutablePointer<Float>,       // (N, F)
    _ dOut: UnsafePointer<Float>,             // (N, F)
    _ gate: UnsafePointer<Float>,             // (N, F)
    _ up: UnsafePointer<Float>,               // (N, F)
    count: Int, accumulate: Bool = true
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double((accumulate ? 28 : 20) * count)) }
    precondition(count >= 0, "gegluBackward count=\(count)")
    let shared = UncheckedSendable((dGate, dUp, dOut, gate, up))
    Parallel.forEachChunk(count, minimumChunk: 1 << 12) { range in
        let (dGate, dUp, dOut, gate, up) = shared.value
        for i in range {
            let g = gate[i], d = dOut[i]
            let t = tanhf(beta * (g + kappa * (g * g * g)))
            let derivative = 0.5 * (1 + t) + 0.5 * g * (1 - t * t) * beta * (1 + 3 * kappa * g * g)
            let (oldGate, oldUp): (Float, Float) = accumulate ? (dGate[i], dUp[i]) : (0, 0)
            dGate[i] = oldGate + d * up[i] * derivative
            dUp[i] = oldUp + d * 0.5 * g * (1 + t)
        }
    }
}
