import CLatheKernels

/// Decode products with the activations rounded to 8 bits, as llama.cpp computes them: each 32-value block of an
/// input vector becomes 32 signed bytes and a scale (`quantizeActivations`), and each stored 4- or 8-bit weight
/// block meets it in integer multiply-adds (CLatheKernels: AVX2's `vpmaddubsw`, or AVX-512 VNNI's `vpdpbusd`),
/// in tiles of eight (row, vector) pairs, or of four rows × 16 vectors where the CPU has 512-bit VNNI. Several times fewer instructions per weight than dequantising to fp32, at
/// the price of the activations' rounding: results differ from `multiply`'s fp32 products by about 1% of a row's
/// largest terms, not by fp32 rounding.
/// Opt-in (`DecodeActivations.q8`); evaluation and training never take this path.
extension QuantizedMatrix {
    /// Bytes of one 32-value block of rounded activations.
    public static let q8BlockBytes = MemoryLayout<lathe_q8_block>.stride

    /// True when `multiply(rows:q8Vectors:…)` takes this matrix's storage type (Q4_0, Q4_1, Q8_0).
    public var takesQ8Activations: Bool { blockKind != nil }

    /// Rounds `count` floats of `x` (a multiple of 32: whole vectors of a matrix these products take) into
    /// `count / 32` blocks of `q8BlockBytes` at `blocks`.
    public static func quantizeActivations(_ x: UnsafePointer<Float>, count: Int, into blocks: UnsafeMutableRawPointer) {
        precondition(count % 32 == 0, "activations come in blocks of 32 values")
        lathe_quantize_q8(x, Int64(count / 32), blocks.assumingMemoryBound(to: lathe_q8_block.self))
    }

    /// `y[i·ldy + r] = Σ_k W[r, k] · x_i[k]` for rows `range` of W and the `n` rounded vectors at `xq`
    /// (`columns / 32` blocks each, from `quantizeActivations`). Each weight block is unpacked once for up to eight
    /// vectors (sixteen with the `vnni512` body); a vector's results are the same bits whatever `n` (a batched decode step and a single stream agree).
    public func multiply(rows range: Range<Int>, q8Vectors xq: UnsafeRawPointer, count n: Int,
                         into y: UnsafeMutablePointer<Float>, ldy: Int) {
        guard let kind = blockKind else { preconditionFailure("\(type.name) rows of \(columns) values take no 8-bit activations") }
        precondition(range.lowerBound >= 0 && range.upperBound <= rows && n >= 1)
        let vectors = xq.assumingMemoryBound(to: lathe_q8_block.self)
        withExtendedLifetime(bytes) {
            guard let base = bytes.buffer.baseAddress else { return }
            let call = { (order: UnsafePointer<Int32>?) in
                lathe_matvec_q8(kind, base + byteOffset, Int64(rowBytes), order, Int64(range.lowerBound), Int64(range.count),
                                vectors, Int64(columns / 32), Int64(n), y, Int64(ldy))
            }
            if let rowOrder { rowOrder.withUnsafeBufferPointer { call($0.baseAddress) } } else { call(nil) }
        }
    }
}

/// The integer kernels' bodies (CLatheKernels): each computes the same integers and the same floating-point
/// operations in the same order, so all return the same bits; tests force each one and compare.
public enum Q8Kernels: KernelBodies {
    public enum Body: CaseIterable, Sendable {
        /// Plain C, one (row, vector) pair at a time.
        case portable
        /// AVX2 tiles of eight pairs (compiled when the package targets a CPU with AVX2, FMA and F16C).
        case avx2
        /// The AVX2 tiles with AVX-512 VNNI's byte dot product (chosen at run time where the CPU has it).
        case vnni
        /// The VNNI tiles, and 16-lane AVX-512 tiles for every group of 9 to 16 vectors: each weight block unpacked
        /// once for all of them, and no reduction across lanes (chosen at run time where the CPU has AVX-512 VNNI).
        case vnni512

        var c: lathe_q8_body {
            switch self {
            case .portable: LATHE_Q8_PORTABLE
            case .avx2: LATHE_Q8_AVX2
            case .vnni: LATHE_Q8_VNNI
            case .vnni512: LATHE_Q8_VNNI512
            }
        }
    }

    public static func isAvailable(_ body: Body) -> Bool { lathe_q8_body_available(body.c) != 0 }

    public static func force(_ body: Body?) { lathe_q8_force_body(body.map { Int32($0.c.rawValue) } ?? -1) }
}
