// The Llama MLP's gated activation: out = silu(gate) · up, silu(g) = g · sigmoid(g).
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// `out = silu(gate) · up`, element-wise over `count` values.
public func swigluForward(
    _ out: UnsafeMutablePointer<Float>,       // (N, F)
    _ gate: UnsafePointer<Float>,             // (N, F)
    _ up: UnsafePointer<Float>,               // (N, F)
    count: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(12 * count)) }
    precondition(count >= 0, "swigluForward count=\(count)")
    let shared = UncheckedSendable((out, gate, up))
    Parallel.forEachChunk(count, minimumChunk: 1 << 12) { range in
        let (out, gate, up) = shared.value
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let g = load8(gate + i)
            store8(g / (1 + exp8(-g)) * load8(up + i), out + i)
            i += 8
        }
        // The tail goes through the same 8-lane formula (zero-padded), so every element's bits are the same
        // whatever the chunking: training's backward recomputes this output and must get the forward's bits.
        if i < range.upperBound {
            var (g, u) = (Vector8(), Vector8())
            for j in 0..<(range.upperBound - i) { (g[j], u[j]) = (gate[i + j], up[i + j]) }
            let y = g / (1 + exp8(-g)) * u
            for j in 0..<(range.upperBound - i) { out[i + j] = y[j] }
        }
    }
}

/// Accumulates `dGate += dOut · up · σ(g)(1 + g(1 − σ(g)))` and `dUp += dOut · silu(g)`; with `accumulate`
/// false, writes them instead (`=`), so the caller needs no zeroing pass first.
public func swigluBackward(
    _ dGate: UnsafeMutablePointer<Float>,     // (N, F)
    _ dUp: UnsafeMutablePointer<Float>,       // (N, F)
    _ dOut: UnsafePointer<Float>,             // (N, F)
    _ gate: UnsafePointer<Float>,             // (N, F)
    _ up: UnsafePointer<Float>,               // (N, F)
    count: Int, accumulate: Bool = true
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double((accumulate ? 28 : 20) * count)) }
    precondition(count >= 0, "swigluBackward count=\(count)")
    let shared = UncheckedSendable((dGate, dUp, dOut, gate, up))
    Parallel.forEachChunk(count, minimumChunk: 1 << 12) { range in
        let (dGate, dUp, dOut, gate, up) = shared.value
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            let g = load8(gate + i), d = load8(dOut + i)
            let s = 1 / (1 + exp8(-g))
            let (oldGate, oldUp) = accumulate ? (load8(dGate + i), load8(dUp + i)) : (Vector8(), Vector8())
            store8(oldGate + d * load8(up + i) * s * (1 + g * (1 - s)), dGate + i)
            store8(oldUp + d * g * s, dUp + i)
            i += 8
        }
        while i < range.upperBound {
            let g = gate[i], d = dOut[i]
            let s = 1 / (1 + expf(-g))
            let (oldGate, oldUp) = accumulate ? (dGate[i], dUp[i]) : (0, 0)
            dGate[i] = oldGate + d * up[i] * s * (1 + g * (1 - s))
            dUp[i] = oldUp + d * g * s
            i += 1
        }
    }
}
