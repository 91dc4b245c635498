/// Matrix-vector products straight from a `QuantizedMatrix`'s stored bytes: each block of a row is dequantised in
/// registers (the same fp32 values `dequantize(rows:into:)` writes: the integer is exact in fp32, then `d·q + m`
/// rounded in the same order) and multiplied into the few input vectors at once, so a decode step reads the matrix
/// once at its stored size and never writes an fp32 copy of it. The sums run in a different order than the sgemm's,
/// so results agree with the tiled path to fp32 rounding, not bit for bit.
///
/// Q4_0, Q4_1 and Q8_0 take their quants a 32-bit word at a time with plain shifts and masks (no per-lane
/// conversion), which leaves each block's values in a fixed permutation; the input vectors are permuted the same
/// way once per call (`permuteVectors`), so each lane still multiplies its own input value.
extension QuantizedMatrix {
    /// Most input vectors one call takes (the accumulators live on the stack).
    public static let maximumVectors = 16

    /// Floats of the scratch `multiply` needs for `n` vectors.
    public func scratchCount(vectors n: Int) -> Int { (n + 1) * columns }

    /// `y[i·ldy + r] = Σ_k W[r, k] · x[i·columns + k]` for rows `range` of W and the `n` vectors of `x`
    /// (n, columns), 1 ≤ n ≤ `maximumVectors`; `scratch` holds `scratchCount(vectors: n)` floats.
    public func multiply(rows range: Range<Int>, vectors x: UnsafePointer<Float>, count n: Int,
                         into y: UnsafeMutablePointer<Float>, ldy: Int, scratch: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && n >= 1 && n <= Self.maximumVectors)
        guard !range.isEmpty else { return }
        let permuted = [.q4_0, .q4_1, .q8_0].contains(type)
        if permuted { Self.permuteVectors(x, n: n, columns: columns, eightBit: type == .q8_0, into: scratch + columns) }
        let xs = permuted ? UnsafePointer(scratch + columns) : x
        let blocks = columns / 32
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            withUnsafeTemporaryAllocation(of: SIMD16<Float>.self, capacity: 2 * n) { acc in
                withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { totals in
                    let (acc, totals) = (acc.baseAddress!, totals.baseAddress!)
                    for row in range {
                        let stored = rowOrder.map { Int($0[row]) } ?? row
                        let p = base + byteOffset + stored * rowBytes
                        for i in 0..<n { totals[i] = 0 }
                        if !permuted {
                            Dequantize.run(type, UnsafeRawBufferPointer(start: p, count: rowBytes),
                                           into: UnsafeMutableBufferPointer(start: scratch, count: columns))
                        }
                        // Each lane sums one position of `span` blocks in fp32, in block order; the lanes then go into
                        // the row's Double total. Lane order never matters, so every storage type (and the fp32
                        // `multiplyRows`) rounds identically on the same values.
                        for first in stride(from: 0, to: max(blocks, 1), by: Self.span) {
                            for i in 0..<(2 * n) { acc[i] = SIMD16() }
                            let count = min(Self.span, blocks - first), xb = xs + first * 32
                            switch type {
                            case .q4_1: Self.dot(Q4_1Blocks.self, p + first * 20, count, xb, columns, n, acc)
                            case .q4_0: Self.dot(Q4_0Blocks.self, p + first * 18, count, xb, columns, n, acc)
                            case .q8_0: Self.dot(Q8_0Blocks.self, p + first * 34, count, xb, columns, n, acc)
                            default:
                                let end = first + Self.span >= blocks ? columns : (first + count) * 32
                                Self.dotFloats(scratch + first * 32, end - first * 32, xb, columns, n, acc)
                            }
                            for i in 0..<n { totals[i] += Self.exactSum(acc[2 * i], acc[2 * i + 1]) }
                        }
                        for i in 0..<n { y[i * ldy + row] = Float(totals[i]) }
                    }
                }
            }
        }
    }

    /// Blocks of 32 values each lane sums in fp32 before the row's Double total takes them.
    static let span = 8

    /// Each 32-value block of each vector in the lane order the word-wise unpacking yields. 4-bit: lane l of a half
    /// holds byte 4·(l % 4) + l / 4 (low nibbles: values 0..<16, high nibbles: 16..<32). 8-bit: lane l holds value
    /// 4·(l % 8) + l / 8.
    private static func permuteVectors(_ x: UnsafePointer<Float>, n: Int, columns: Int, eightBit: Bool,
                                       into out: UnsafeMutablePointer<Float>) {
        for block in stride(from: 0, to: n * columns, by: 32) {
            for l in 0..<32 {
                let source = eightBit ? 4 * (l % 8) + l / 8 : (l / 16) * 16 + 4 * (l % 4) + (l % 16) / 4
                out[block + l] = x[block + source]
            }
        }
    }

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

    /// `blocks` stored blocks of one row into every vector's two accumulators. One vector (a decode step) keeps
    /// its accumulators in registers; the sums are the same either way.
    @inline(__always)
    private static func dot<Blocks: StoredBlocks>(_: Blocks.Type, _ p: UnsafeRawPointer, _ blocks: Int, _ x: UnsafePointer<Float>,
                                                  _ columns: Int, _ n: Int, _ acc: UnsafeMutablePointer<SIMD16<Float>>) {
        if n == 1 {
            var (a0, a1) = (acc[0], acc[1])
            for b in 0..<blocks {
                let (w0, w1) = Blocks.values(p + b * Blocks.bytes)
                a0 += w0 * load16(x + b * 32)
                a1 += w1 * load16(x + b * 32 + 16)
            }
            (acc[0], acc[1]) = (a0, a1)
            return
        }
        for b in 0..<blocks {
            let (w0, w1) = Blocks.values(p + b * Blocks.bytes)
            accumulate(w0, w1, x + b * 32, columns, n, acc)
        }
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

/// A ggml block format `QuantizedMatrix.multiply` dequantises in registers: 32 values per block, in the lane order
/// of `permuteVectors` (lanes 0..<16, then 16..<32).
private protocol StoredBlocks {
    static var bytes: Int { get }
    static func values(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>)
}

/// The binary16 scale at `offset` of a block, as `Dequantize.half` reads it; the hardware conversion where the
/// compiler targets one (F16C), the same exact value either way (only a signalling NaN comes back quiet, and a NaN
/// scale makes the whole block NaN in both).
@inline(__always)
private func scale(_ block: UnsafeRawPointer, _ offset: Int) -> Float {
    #if os(macOS) && arch(x86_64)
    Dequantize.half(block, offset)
    #else
    Float(Float16(bitPattern: UInt16(littleEndian: block.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    #endif
}

/// Small non-negative integers (< 2²³) as exact floats: 2²³ + v has v in its mantissa.
@inline(__always)
private func exactFloats(_ v: SIMD16<UInt32>) -> SIMD16<Float> {
    unsafeBitCast(v | 0x4B00_0000, to: SIMD16<Float>.self) - 8_388_608
}

/// The 16 low and the 16 high nibbles of a 4-bit block's quants, a 32-bit word at a time.
@inline(__always)
private func nibbles(_ block: UnsafeRawPointer, at offset: Int) -> (SIMD16<Float>, SIMD16<Float>) {
    let words = block.loadUnaligned(fromByteOffset: offset, as: SIMD4<UInt32>.self)
    let low = SIMD16(lowHalf: SIMD8(lowHalf: words, highHalf: words &>> 8),
                     highHalf: SIMD8(lowHalf: words &>> 16, highHalf: words &>> 24)) & 0x0F
    let high = SIMD16(lowHalf: SIMD8(lowHalf: words &>> 4, highHalf: words &>> 12),
                      highHalf: SIMD8(lowHalf: words &>> 20, highHalf: words &>> 28)) & 0x0F
    return (exactFloats(low), exactFloats(high))
}

/// Q4_1 {d; m; qs[16]}: w = d·nibble + m (Dequantize.q4_1).
private enum Q4_1Blocks: StoredBlocks {
    static var bytes: Int { 20 }
    @inline(__always)
    static func values(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let (d, m) = (scale(block, 0), scale(block, 2))
        let (low, high) = nibbles(block, at: 4)
        return (d * low + m, d * high + m)
    }
}

/// Q4_0 {d; qs[16]}: w = d·(nibble − 8) (Dequantize.q4_0).
private enum Q4_0Blocks: StoredBlocks {
    static var bytes: Int { 18 }
    @inline(__always)
    static func values(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let d = scale(block, 0)
        let (low, high) = nibbles(block, at: 2)
        return (d * (low - 8), d * (high - 8))
    }
}

/// Q8_0 {d; qs[32] int8}: w = q·d (Dequantize.q8_0). Byte k of each word, sign-extended by shifting it to the top
/// and back; q + 2²³ + 2²² is exact, so the float trick covers the negative values too.
private enum Q8_0Blocks: StoredBlocks {
    static var bytes: Int { 34 }
    @inline(__always)
    static func values(_ block: UnsafeRawPointer) -> (SIMD16<Float>, SIMD16<Float>) {
        let d = scale(block, 0)
        let words = block.loadUnaligned(fromByteOffset: 2, as: SIMD8<Int32>.self)
        @inline(__always) func byte(_ k: Int32) -> SIMD8<Int32> { (words &<< (24 - 8 * k)) &>> 24 }
        @inline(__always) func floats(_ v: SIMD16<Int32>) -> SIMD16<Float> {
            unsafeBitCast(v &+ 0x4B40_0000, to: SIMD16<Float>.self) - 12_582_912
        }
        return (floats(SIMD16(lowHalf: byte(0), highHalf: byte(1))) * d, floats(SIMD16(lowHalf: byte(2), highHalf: byte(3))) * d)
    }
}
