// Small SIMD building blocks shared by the ops: dot products, axpy, max, and a vectorised exp.
// All loads and stores are unaligned, so any pointer into flat storage works.
#if canImport(Glibc)
import Glibc
#endif

/// Eight lanes: the width the kernels use for their inner loops (one AVX register, two SSE registers).
typealias Vector8 = SIMD8<Float>

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> Vector8 {
    UnsafeRawPointer(p).loadUnaligned(as: Vector8.self)
}

@inline(__always)
func store8(_ v: Vector8, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector8.self)
}

// Products are written a * b + c, not `addingProduct`: without an FMA target the fused form becomes a
// call to fmaf per lane. Likewise `pointwiseMax`/`max()` keep NaN rules that compile to scalar branches.

/// Lane-wise maximum as compare-and-select (NaN handling is not needed by the callers).
@inline(__always)
func lanewiseMax(_ a: Vector8, _ b: Vector8) -> Vector8 { a.replacing(with: b, where: b .> a) }

/// Lane-wise minimum as compare-and-select.
@inline(__always)
func lanewiseMin(_ a: Vector8, _ b: Vector8) -> Vector8 { a.replacing(with: b, where: b .< a) }

/// Sum of the eight lanes.
@inline(__always)
func horizontalSum(_ v: Vector8) -> Float {
    let quarter = (v.lowHalf + v.highHalf)
    let pair = quarter.lowHalf + quarter.highHalf
    return pair[0] + pair[1]
}

/// `Σ a[i]·b[i]` over `count` values, fp32 with four independent 8-lane accumulators.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var s0 = Vector8(), s1 = Vector8(), s2 = Vector8(), s3 = Vector8()
    var i = 0
    while i + 32 <= count {
        s0 += load8(a + i) * load8(b + i)
        s1 += load8(a + i + 8) * load8(b + i + 8)
        s2 += load8(a + i + 16) * load8(b + i + 16)
        s3 += load8(a + i + 24) * load8(b + i + 24)
        i += 32
    }
    while i + 8 <= count {
        s0 += load8(a + i) * load8(b + i)
        i += 8
    }
    var sum = horizontalSum((s0 + s1) + (s2 + s3))
    while i < count { sum += a[i] * b[i]; i += 1 }
    return sum
}

/// `Σ a[i]²` over `count` values.
@inline(__always)
func sumOfSquares(_ a: UnsafePointer<Float>, _ count: Int) -> Float { dot(a, a, count) }

/// `‖a‖₂` over `count` values with the squares summed in Double: eight values a step into two four-lane
/// accumulators, their lanes added pairwise at the end (DoRA's row norms, PEFT's `torch.linalg.norm` over a row, to
/// well within fp32).
public func doubleNorm(_ a: UnsafePointer<Float>, _ count: Int) -> Float {
    var (s0, s1) = (SIMD4<Double>(), SIMD4<Double>())
    var i = 0
    while i + 8 <= count {
        let v = load8(a + i)
        let low = SIMD4<Double>(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]))
        let high = SIMD4<Double>(Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
        s0 += low * low
        s1 += high * high
        i += 8
    }
    let lanes = s0 + s1
    var sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
    while i < count { sum += Double(a[i]) * Double(a[i]); i += 1 }
    return Float(sum.squareRoot())
}

/// `y[i] += alpha · x[i]` over `count` values.
@inline(__always)
func axpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ count: Int) {
    let a = Vector8(repeating: alpha)
    var i = 0
    while i + 8 <= count {
        store8(load8(y + i) + a * load8(x + i), y + i)
        i += 8
    }
    while i < count { y[i] += alpha * x[i]; i += 1 }
}

/// `y[i] += x[i]` over `count` values.
@inline(__always)
func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
    var i = 0
    while i + 8 <= count {
        store8(load8(y + i) + load8(x + i), y + i)
        i += 8
    }
    while i < count { y[i] += x[i]; i += 1 }
}

/// Largest of `count ≥ 1` values.
@inline(__always)
func maximum(_ a: UnsafePointer<Float>, _ count: Int) -> Float {
    var best = -Float.infinity
    var i = 0
    if count >= 8 {
        var m = Vector8(repeating: -.infinity)
        while i + 8 <= count { m = lanewiseMax(m, load8(a + i)); i += 8 }
        for lane in 0..<8 { best = Swift.max(best, m[lane]) }
    }
    while i < count { best = Swift.max(best, a[i]); i += 1 }
    return best
}

/// `y[i] = exp(x[i] − shift)`; returns the sum of the new values (fp32, lane-wise partial sums). `y` may be `x`.
@inline(__always)
func expShifted(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shift: Float, _ count: Int) -> Float {
    let s = Vector8(repeating: shift)
    var total = Vector8()
    var i = 0
    while i + 8 <= count {
        let e = exp8(load8(x + i) - s)
        store8(e, y + i)
        total += e
        i += 8
    }
    var sum = horizontalSum(total)
    while i < count {
        let e = expf(x[i] - shift)
        y[i] = e
        sum += e
        i += 1
    }
    return sum
}

/// `x[i] = exp(x[i] − shift)` in place; returns the sum of the new values.
@inline(__always)
func expShiftedInPlace(_ x: UnsafeMutablePointer<Float>, shift: Float, _ count: Int) -> Float {
    expShifted(x, into: x, shift: shift, count)
}

/// `y[i] = x[i] · factor` over `count` values. `y` may be `x`.
@inline(__always)
func scaled(_ x: UnsafePointer<Float>, by factor: Float, into y: UnsafeMutablePointer<Float>, _ count: Int) {
    let f = Vector8(repeating: factor)
    var i = 0
    while i + 8 <= count { store8(load8(x + i) * f, y + i); i += 8 }
    while i < count { y[i] = x[i] * factor; i += 1 }
}

/// `x[i] *= factor` over `count` values.
@inline(__always)
func scaleInPlace(_ x: UnsafeMutablePointer<Float>, _ factor: Float, _ count: Int) {
    scaled(x, by: factor, into: x, count)
}

/// `e^x` for eight lanes, relative error about 2e-7 for x in [−87, 88]; −∞ and anything below −87.3 give 0.
/// Cephes `expf` scheme: x = n·ln2 + r with |r| ≤ ln2/2 (up to rounding), e^r by a degree-6 polynomial, 2ⁿ through the exponent bits.
/// `@_transparent`, not `@inline(__always)`: with the latter the release build still called it out of line from the
/// cross-entropy and SwiGLU loops, passing each vector as two 128-bit halves and clearing the upper registers
/// (`vzeroupper`) on every call.
@_transparent
func exp8(_ input: Vector8) -> Vector8 {
    let x = lanewiseMin(lanewiseMax(input, Vector8(repeating: -87.3)), Vector8(repeating: 88.3))
    // Adding 1.5·2²³ rounds x·log2(e) to the nearest integer n (no SSE4 round instruction needed) and
    // leaves n in the low mantissa bits of `shifted`, from which 2ⁿ's exponent bits are built below.
    let shifted = x * 1.44269504088896341 + 12582912
    let n = shifted - 12582912
    // ln2 split in two (0.693359375 is exact in fp32) so n·ln2 is subtracted without losing r's bits.
    var r = x - n * 0.693359375
    r = r + n * 2.12194440e-4
    let r2 = r * r
    var p = Vector8(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let er = p * r2 + r + 1
    let exponent = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let bits = (exponent &+ 127) &<< 23
    let scaled = er * unsafeBitCast(bits, to: Vector8.self)
    return scaled.replacing(with: 0, where: input .< -87.3)
}
