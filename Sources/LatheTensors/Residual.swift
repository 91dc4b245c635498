import LatheSupport

// Residual connection: the sum of two streams, and its gradient copied back to both.

/// `out = a + b`, element-wise over `count` values. `out` may alias `a` or `b`.
public func residualForward(
    _ out: UnsafeMutablePointer<Float>,       // (B, T, C)
    _ a: UnsafePointer<Float>,                // (B, T, C)
    _ b: UnsafePointer<Float>,                // (B, T, C)
    count: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(12 * count)) }
    precondition(count >= 0, "residualForward count=\(count)")
    let shared = UncheckedSendable((out, a, b))
    Parallel.forEachChunk(count, minimumChunk: 1 << 14) { range in
        let (out, a, b) = shared.value
        var i = range.lowerBound
        while i + 8 <= range.upperBound {
            store8(load8(a + i) + load8(b + i), out + i)
            i += 8
        }
        while i < range.upperBound { out[i] = a[i] + b[i]; i += 1 }
    }
}

/// `da += dOut`, `db += dOut`, element-wise over `count` values. `da` and `db` may be the same buffer.
public func residualBackward(
    _ da: UnsafeMutablePointer<Float>,        // (B, T, C)
    _ db: UnsafeMutablePointer<Float>,        // (B, T, C)
    _ dOut: UnsafePointer<Float>,             // (B, T, C)
    count: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(20 * count)) }
    precondition(count >= 0, "residualBackward count=\(count)")
    let shared = UncheckedSendable((da, db, dOut))
    Parallel.forEachChunk(count, minimumChunk: 1 << 14) { range in
        let (da, db, dOut) = shared.value
        let start = range.lowerBound
        addInPlace(da + start, dOut + start, range.count)
        addInPlace(db + start, dOut + start, range.count)
    }
}
