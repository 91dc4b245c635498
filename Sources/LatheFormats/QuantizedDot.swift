/// Matrix-vector products straight from a `QuantizedMatrix`'s stored bytes: each block of a row is dequantised in
/// registers (the same fp32 values `dequantize(rows:into:)` writes, rounded in the same order) and multiplied into
/// the few input vectors at once, so a decode step reads the matrix once at its stored size and never writes an
/// fp32 copy of it. The sums run in a different order than the sgemm's, so results agree with the tiled path to
/// fp32 rounding, not bit for bit.
extension QuantizedMatrix {
    /// Most input vectors one call takes (the accumulators live on the stack).
    public static let maximumVectors = 16

    /// `y[i·ldy + r] = Σ_k W[r, k] · x[i·columns + k]` for rows `range` of W and the `n` vectors of `x`
    /// (n, columns), 1 ≤ n ≤ `maximumVectors`. Q4_0, Q4_1 and Q8_0 are read block by block; the other types
    /// dequantise one row at a time into `scratch` (at least `columns` floats), which stays in the L1 cache.
    public func multiply(rows range: Range<Int>, vectors x: UnsafePointer<Float>, count n: Int,
                         into y: UnsafeMutablePointer<Float>, ldy: Int, scratch: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && n >= 1 && n <= Self.maximumVectors)
        guard !range.isEmpty else { return }
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: n) { acc in
                for row in range {
                    let stored = rowOrder.map { Int($0[row]) } ?? row
                    let p = base + byteOffset + stored * rowBytes
                    for i in 0..<n { acc[i] = SIMD16() }
                    switch type {
                    case .q4_1: Self.dotQ4_1(p, columns / 32, x, columns, n, acc.baseAddress!)
                    case .q4_0: Self.dotQ4_0(p, columns / 32, x, columns, n, acc.baseAddress!)
                    case .q8_0: Self.dotQ8_0(p, columns / 32, x, columns, n, acc.baseAddress!)
                    default:
                        Dequantize.run(type, UnsafeRawBufferPointer(start: p, count: rowBytes),
                                       into: UnsafeMutableBufferPointer(start: scratch, count: columns))
                        Self.dotFloats(scratch, columns, x, n, acc.baseAddress!)
                    }
                    for i in 0..<n { y[i * ldy + row] = acc[i].sum() }
                }
            }
        }
    }

    @inline(__always)
    private static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// The 32 values of a block (w0: positions 0..<16, w1: 16..<32) into every vector's accumulator.
    @inline(__always)
    private static func accumulate(_ w0: SIMD16<Float>, _ w1: SIMD16<Float>, _ x: UnsafePointer<Float>, _ columns: Int,
                                   _ n: Int, _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        for i in 0..<n {
            let xi = x + i * columns
            acc[i] += w0 * load16(xi) + w1 * load16(xi + 16)
        }
    }

    /// Q4_1 {d; m; qs[16]}: w = d·nibble + m (Dequantize.q4_1).
    private static func dotQ4_1(_ p: UnsafeRawPointer, _ blocks: Int, _ x: UnsafePointer<Float>, _ columns: Int, _ n: Int,
                                _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        for b in 0..<blocks {
            let block = p + b * 20
            let d = Dequantize.half(block, 0), m = Dequantize.half(block, 2)
            let q = block.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
            let lo = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q & 0x0F))
            let hi = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q &>> 4))
            accumulate(d * lo + m, d * hi + m, x + b * 32, columns, n, acc)
        }
    }

    /// Q4_0 {d; qs[16]}: w = d·(nibble − 8) (Dequantize.q4_0).
    private static func dotQ4_0(_ p: UnsafeRawPointer, _ blocks: Int, _ x: UnsafePointer<Float>, _ columns: Int, _ n: Int,
                                _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        for b in 0..<blocks {
            let block = p + b * 18
            let d = Dequantize.half(block, 0)
            let q = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
            let lo = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q & 0x0F) &- 8)
            let hi = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q &>> 4) &- 8)
            accumulate(d * lo, d * hi, x + b * 32, columns, n, acc)
        }
    }

    /// Q8_0 {d; qs[32] int8}: w = q·d (Dequantize.q8_0).
    private static func dotQ8_0(_ p: UnsafeRawPointer, _ blocks: Int, _ x: UnsafePointer<Float>, _ columns: Int, _ n: Int,
                                _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        for b in 0..<blocks {
            let block = p + b * 34
            let d = Dequantize.half(block, 0)
            let q0 = block.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self)
            let q1 = block.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self)
            let w0 = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q0)) * d
            let w1 = SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q1)) * d
            accumulate(w0, w1, x + b * 32, columns, n, acc)
        }
    }

    /// An fp32 row into every vector's accumulator (F16/BF16/F32 rows may end in fewer than 32 values).
    private static func dotFloats(_ w: UnsafePointer<Float>, _ columns: Int, _ x: UnsafePointer<Float>, _ n: Int,
                                  _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        let whole = columns / 32 * 32
        for k in stride(from: 0, to: whole, by: 32) {
            accumulate(load16(w + k), load16(w + k + 16), x + k, columns, n, acc)
        }
        for i in 0..<n {
            for k in whole..<columns { acc[i][(k - whole) % 16] += w[k] * x[i * columns + k] }
        }
    }
}
