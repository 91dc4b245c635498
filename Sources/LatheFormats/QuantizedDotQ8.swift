import CLatheKernels

/// Decode products with the activations rounded to 8 bits, as llama.cpp computes them: each 32-value block of an
/// input vector becomes 32 signed bytes and a scale (`quantizeActivations`), and each stored 4- or 8-bit weight
/// block meets it in integer multiply-adds (CLatheKernels: AVX2's `vpmaddubsw` where the build targets it). About
/// three times fewer instructions per weight than dequantising to fp32, at the price of the activations' rounding:
/// results differ from `multiply`'s fp32 products by about 1% of a row's largest terms, not by fp32 rounding.
/// Opt-in (`DecodeActivations.q8`); evaluation and training never take this path.
extension QuantizedMatrix {
    /// Bytes of one 32-value block of rounded activations.
    public static let q8BlockBytes = MemoryLayout<lathe_q8_block>.stride

    /// True when `multiply(rows:q8Vectors:…)` takes this matrix's storage type (Q4_0, Q4_1, Q8_0).
    public var takesQ8Activations: Bool { [.q4_0, .q4_1, .q8_0].contains(type) && columns % 32 == 0 }

    /// Rounds `count` floats of `x` (a multiple of 32: whole vectors of a matrix these products take) into
    /// `count / 32` blocks of `q8BlockBytes` at `blocks`.
    public static func quantizeActivations(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0, "activations come in blocks of 32 values")
        lathe_quantize_q8(x, Int64(count / 32), blocks.assumingMemoryBound(to: lathe_q8_block.self))
    }

    /// `y[i·ldy + r] = Σ_k W[r, k] · x_i[k]` for rows `range` of W and the `n` rounded vectors at `xq`
    /// (`columns / 32` blocks each, from `quantizeActivations`). Each weight block is unpacked once for up to three
    /// vectors; a vector's results are the same bits whatever `n` (a batched decode step and a single stream agree).
    public func multiply(rows range: Range<Int>, q8Vectors xq: UnsafeRawPointer, count n: Int,
                         into y: UnsafeMutablePointer<Float>, ldy: Int) {
        precondition(takesQ8Activations && range.lowerBound >= 0 && range.upperBound <= rows && n >= 1)
        let kind: lathe_weight_type = type == .q4_0 ? LATHE_Q4_0 : type == .q4_1 ? LATHE_Q4_1 : LATHE_Q8_0
        let blocks = columns / 32
        let vectors = xq.assumingMemoryBound(to: lathe_q8_block.self)
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            for row in range {
                let stored = rowOrder.map { Int($0[row]) } ?? row
                let p = base + byteOffset + stored * rowBytes
                lathe_dots_q8(kind, p, vectors, Int64(blocks), Int64(n), y + row, Int64(ldy))
            }
        }
    }
}

/// The integer kernels' switch between their AVX2 and portable bodies (tests run both and compare the bits).
public enum Q8Kernels {
    /// True when the AVX2 bodies were compiled in (the package targets a CPU with AVX2, FMA and F16C).
    public static var hasSIMD: Bool { lathe_q8_has_simd() != 0 }

    /// Runs `body` with the portable bodies forced. The switch is process-wide; since both bodies return the same
    /// bits, a product running concurrently elsewhere is unaffected.
    public static func withPortableBodies<R>(_ body: () throws -> R) rethrows -> R {
        lathe_q8_force_portable(1)
        defer { lathe_q8_force_portable(0) }
        return try body()
    }
}
