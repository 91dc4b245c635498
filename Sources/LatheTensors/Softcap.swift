// Logit soft-capping (Gemma 2/3 `final_logit_softcapping`): x ↦ cap · tanh(x / cap), which keeps every logit
// inside (−cap, cap); transformers: `logits = logits / cap; logits = tanh(logits); logits = logits * cap`.
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// `x = cap · tanh(x / cap)` in place over `count` values.
public func softcapForward(
    _ x: UnsafeMutablePointer<Float>,         // (N, V)
    cap: Float, count: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(8 * count)) }
    precondition(count >= 0 && cap > 0, "softcapForward count=\(count) cap=\(cap)")
    Parallel.forEachChunk(count, minimumChunk: 1 << 12) { range in
        for i in range { x[i] = tanhf(x[i] / cap) * cap }
    }
}

/// Turns `dx`, the gradient of the capped values `capped = cap · tanh(x / cap)`, in place into the gradient of
/// the uncapped ones: d capped / dx = 1 − (capped / cap)².
public func softcapBackward(
    _ dx: UnsafeMutablePointer<Float>,        // (N, V)
    _ capped: UnsafePointer<Float>,           // (N, V)
    cap: Float, count: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(12 * count)) }
    precondition(count >= 0 && cap > 0, "softcapBackward count=\(count) cap=\(cap)")
    Parallel.forEachChunk(count, minimumChunk: 1 << 12) { range in
        for i in range {
            let t = capped[i] / cap
            dx[i] *= 1 - t * t
        }
    }
}
