import CLatheKernels

/// Matrix-vector products straight from a `QuantizedMatrix`'s stored bytes: each block of a row is dequantised in
/// registers (the same fp32 values `dequantize(rows:into:)` writes) and multiplied into the few input vectors at
/// once, so a decode step reads the matrix once at its stored size and never writes an fp32 copy of it. The sums run
/// in a different order than the sgemm's, so results agree with the tiled path to fp32 rounding, not bit for bit;
/// they are `multiplyRows`'s sums over the same matrix dequantised at load, to the bit.
///
/// Q4_0, Q4_1 and Q8_0 run in C (`lathe_matvec_f32`: AVX2 or portable bodies, the same bits); other types
/// dequantise one row at a time into an L1-sized scratch and take `multiplyRows`'s loop.
extension QuantizedMatrix {
    /// Most input vectors one call takes (the accumulators live on the stack).
    public static let maximumVectors = 16

    /// Floats of the scratch `multiply` needs for `n` vectors (one dequantised row, for the types C does not take).
    public func scratchCount(vectors n: Int) -> Int { columns }

    /// `y[i·ldy + r] = Σ_k W[r, k] · x[i·columns + k]` for rows `range` of W and the `n` vectors of `x`
    /// (n, columns), 1 ≤ n ≤ `maximumVectors`; `scratch` holds `scratchCount(vectors: n)` floats.
    public func multiply(rows range: Range<Int>, vectors x: UnsafePointer<Float>, count n: Int,
                         into y: UnsafeMutablePointer<Float>, ldy: Int, scratch: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && n >= 1 && n <= Self.maximumVectors)
        guard !range.isEmpty else { return }
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            if let kind = blockKind {
                let call = { (order: UnsafePointer<Int32>?) in
                    lathe_matvec_f32(kind, base + byteOffset, Int64(rowBytes), order, Int64(range.lowerBound),
                                     Int64(range.count), x, Int64(columns / 32), Int64(n), y, Int64(ldy))
                }
                if let rowOrder { rowOrder.withUnsafeBufferPointer { call($0.baseAddress) } } else { call(nil) }
                return
            }
            for row in range {
                let stored = rowOrder.map { Int($0[row]) } ?? row
                Dequantize.run(type, UnsafeRawBufferPointer(start: base + byteOffset + stored * rowBytes, count: rowBytes),
                               into: UnsafeMutableBufferPointer(start: scratch, count: columns))
                Self.multiplyRows(0..<1, of: scratch, columns: columns, vectors: x, count: n, into: y + row, ldy: ldy)
            }
        }
    }

    /// The C kernels' name for this matrix's type when they take it (Q4_0, Q4_1, Q8_0 in whole blocks): the fp32
    /// kernel here and the 8-bit one (`takesQ8Activations`).
    var blockKind: lathe_weight_type? {
        guard columns % 32 == 0 else { return nil }
        switch type {
        case .q4_0: return LATHE_Q4_0
        case .q4_1: return LATHE_Q4_1
        case .q8_0: return LATHE_Q8_0
        default: return nil
        }
    }

    /// Blocks of 32 values each lane sums in fp32 before the row's Double total takes them.
    static let span = 8

    @inline(__always)
    private static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// The 32 values of a block (w0: lanes 0..<16, w1: 16..<32) into every vector's two accumulators.
    @inline(__always)
    private static func accumulate(_ w0: SIMD16<Float>, _ w1: SIMD16<Float>, _ x: UnsafePointer<Float>, _ columns: Int,
                                   _ n: Int, _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        for i in 0..<n {
            let xi = x + i * columns
            acc[2 * i] += w0 * load16(xi)
            acc[2 * i + 1] += w1 * load16(xi + 16)
        }
    }

    /// Σ of the 32 lanes in Double: exact for any lane order unless their magnitudes span more than 2²⁹, so the
    /// lanes are widened and added as vectors.
    @inline(__always)
    private static func exactSum(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> Double {
        @inline(__always) func wide(_ v: SIMD4<Float>) -> SIMD4<Double> { SIMD4(Double(v.x), Double(v.y), Double(v.z), Double(v.w)) }
        let s = ((wide(a.lowHalf.lowHalf) + wide(a.lowHalf.highHalf)) + (wide(a.highHalf.lowHalf) + wide(a.highHalf.highHalf)))
            + ((wide(b.lowHalf.lowHalf) + wide(b.lowHalf.highHalf)) + (wide(b.highHalf.lowHalf) + wide(b.highHalf.highHalf)))
        return (s.x + s.y) + (s.z + s.w)
    }

    /// `count` values of an fp32 row into every vector's accumulators (vectors `stride` apart; F16/BF16/F32 rows may
    /// end in fewer than 32 values, whose tail goes to the lanes of its positions).
    private static func dotFloats(_ w: UnsafePointer<Float>, _ count: Int, _ x: UnsafePointer<Float>, _ stride: Int, _ n: Int,
                                  _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        let whole = count / 32 * 32
        for k in Swift.stride(from: 0, to: whole, by: 32) {
            accumulate(load16(w + k), load16(w + k + 16), x + k, stride, n, acc)
        }
        for i in 0..<n {
            for k in whole..<count { acc[2 * i + (k - whole) / 16][(k - whole) % 16] += w[k] * x[i * stride + k] }
        }
    }

    /// `y[i·ldy + r] = Σ_k W[r, k] · x[i·columns + k]` for rows `range` of the fp32 matrix `w` (rows, columns) and the
    /// `n` vectors of `x`: the decode product of a dense base, summed exactly as `multiply` sums a quantised one,
    /// so a base kept quantised and the same base dequantised at load decode to the same logits.
    public static func multiplyRows(_ range: Range<Int>, of w: UnsafePointer<Float>, columns: Int, vectors x: UnsafePointer<Float>,
                                    count n: Int, into y: UnsafeMutablePointer<Float>, ldy: Int) {
        precondition(n >= 1 && n <= maximumVectors)
        let blocks = columns / 32
        withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 2 * n) { acc in
          withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { totals in
            let acc = acc.baseAddress!
            for row in range {
                let p = w + row * columns
                for i in 0..<n { totals[i] = 0 }
                for first in Swift.stride(from: 0, to: max(blocks, 1), by: span) {
                    for i in 0..<(2 * n) { acc[i] = SIMD16() }
                    let end = first + span >= blocks ? columns : (first + min(span, blocks - first)) * 32
                    dotFloats(p + first * 32, end - first * 32, x + first * 32, columns, n, acc)
                    for i in 0..<n { totals[i] += exactSum(acc[2 * i], acc[2 * i + 1]) }
                }
                for i in 0..<n { y[i * ldy + row] = Float(totals[i]) }
            }
          }
        }
    }
}

/// The fp32-activation kernels' bodies (CLatheKernels, `lathe_matvec_f32`): each computes the same floating-point
/// operations in the same order, so all return the same bits; tests force each one and compare.
public enum FP32DecodeKernels: KernelBodies {
    public enum Body: CaseIterable, Sendable {
        /// Plain C, one (row, vector) pair at a time.
        case portable
        /// A block's 32 lanes in four 8-float registers, for one or two vectors at a time (compiled when the package
        /// targets a CPU with AVX2, FMA and F16C).
        case avx2
        /// The same lanes in two 16-float registers, for up to four vectors at a time (compiled with the AVX2 body,
        /// run where the CPU reports AVX-512 F; the default there).
        case avx512

        var c: lathe_f32_body {
            switch self {
            case .portable: LATHE_F32_PORTABLE
            case .avx2: LATHE_F32_AVX2
            case .avx512: LATHE_F32_AVX512
            }
        }
    }

    public static func isAvailable(_ body: Body) -> Bool { lathe_f32_body_available(body.c) != 0 }

    public static func force(_ body: Body?) { lathe_f32_force_body(body.map { Int32($0.c.rawValue) } ?? -1) }
}
