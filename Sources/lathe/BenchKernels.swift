import ArgumentParser
import Dispatch
import LatheFormats
import LatheSupport
import LatheTensors

/// `lathe bench kernels`: one line per op at SmolLM2-135M shapes.
struct BenchKernels: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "GFLOP/s or GB/s of each tensor op at SmolLM2-135M shapes (T=2048, C=576, F=1536, V=49152)."
    )

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        threads.configure()
        let rate = SgemmRate.measure()
        print("threads \(Parallel.threads)   sgemm rate (2048x1536x576): \(format(rate)) GFLOP/s, \(BLASCore.summary)")
        let (t, c, f) = (2048, 576, 1536)
        for (ta, tb, name) in [(Transpose.none, Transpose.transposed, "matmul x·Wᵀ  (forward)"),
                               (.none, .none, "matmul dy·W   (input grad)"),
                               (.transposed, .none, "matmul dyᵀ·x  (weight grad)"),
                               (.transposed, .transposed, "matmul aᵀ·bᵀ")] {
            let (m, n, k) = ta == .transposed ? (f, c, t) : (t, f, c)
            let seconds = timeMatmul(ta, tb, m: m, n: n, k: k)
            let gflops = 2.0 * Double(m * n * k) / seconds / 1e9
            print("\(name.padding(28))  \(format(gflops)) GFLOP/s  \(format(100 * gflops / rate))% of sgemm")
        }
        for type in [GGMLType.q4_1, .q8_0] { try timeDequantize(type, rows: f, columns: c) }
        OpBench(rate: rate).run()
    }

    /// `QuantizedMatrix.dequantize` of a (rows, columns) matrix of `type` with random blocks (scales 2⁻⁷ and −2⁻⁴),
    /// on one thread: the tile a quantised base is multiplied through, written in fp32.
    private func timeDequantize(_ type: GGMLType, rows: Int, columns: Int) throws {
        let blockCount = rows * columns / type.blockSize
        var random = SplitMix64(seed: 7)
        var bytes = [UInt8](repeating: 0, count: blockCount * type.blockBytes)
        for block in 0..<blockCount {
            let start = block * type.blockBytes
            for i in 0..<type.blockBytes { bytes[start + i] = UInt8(truncatingIfNeeded: random.next()) }
            (bytes[start], bytes[start + 1]) = (0x00, 0x20)   // d = 2⁻⁷ (binary16 0x2000)
            if type == .q4_1 { (bytes[start + 2], bytes[start + 3]) = (0x00, 0xAC) }   // m = −2⁻⁴
        }
        let matrix = try QuantizedMatrix(type: type, rows: rows, columns: columns,
                                         bytes: MappedBytes(bytes: bytes, name: "bench"), byteOffset: 0)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * columns)
        defer { out.deallocate() }
        let seconds = bestTime { matrix.dequantize(rows: 0..<rows, into: out) }
        let name = "dequantise \(type.name) (1 thread)"
        print("\(name.padding(28))  \(format(Double(4 * rows * columns) / seconds / 1e9)) GB/s written   \(format(seconds * 1e3, decimals: 2)) ms")
    }

    private func timeMatmul(_ ta: Transpose, _ tb: Transpose, m: Int, n: Int, k: Int) -> Double {
        let a = [Float](repeating: 0.5, count: m * k)
        let b = [Float](repeating: 0.25, count: k * n)
        var c = [Float](repeating: 0, count: m * n)
        return bestTime {
            c.withUnsafeMutableBufferPointer { cp in
                matmul(a, ta, b, tb, cp.baseAddress!, m: m, n: n, k: k)
            }
        }
    }
}

/// Best wall time of `repeats` calls after one warm-up call.
func bestTime(repeats: Int = 5, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

/// The middle value (the lower of the two middle ones for an even count); `values` must not be empty.
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of no values")
    return values.sorted()[(values.count - 1) / 2]
}

func format(_ value: Double, decimals: Int = 1) -> String {
    let scale = Double((0..<decimals).reduce(1) { r, _ in r * 10 })
    let rounded = (value * scale).rounded() / scale
    return "\(rounded)"
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}


/// The element-wise, normalisation, attention and loss ops of one SmolLM2-135M layer, timed forward and
/// backward. Memory-bound ops report GB/s over the bytes each logical array is read or written once;
/// attention reports GFLOP/s over its causal products (2 in forward; 5 in backward, which recomputes the scores).
struct OpBench {
    let rate: Double
    let t = 2048, c = 576, f = 1536, vocab = 49152, heads = 9, kvHeads = 3, d = 64
    /// Rows of the cross-entropy benchmark: 512 × V = 100 MB of logits keeps memory modest.
    let lossRows = 512

    func run() {
        print("ops at T=\(t) C=\(c) F=\(f) H=\(heads) KVH=\(kvHeads) D=\(d); cross-entropy on \(lossRows) rows of V=\(vocab)")
        let x = filled(t * c, seed: 1), y = filled(t * c, seed: 2), dY = filled(t * c, seed: 3)
        let dX = filled(t * c, seed: 4), dX2 = filled(t * c, seed: 5)
        defer { for p in [x, y, dY, dX, dX2] { p.deallocate() } }
        let tokens = UnsafeMutablePointer<Int32>.allocate(capacity: t)
        defer { tokens.deallocate() }
        for i in 0..<t { tokens[i] = Int32((i * 7919) % vocab) }
        let table = filled(vocab * c, seed: 6), dTable = filled(vocab * c, seed: 7)
        defer { table.deallocate(); dTable.deallocate() }
        let floats = Double(MemoryLayout<Float>.size)
        let rowBytes = Double(t * c) * floats

        report("embedding fwd", bytes: 2 * rowBytes) { embeddingForward(y, tokens, table, n: t, c: c) }
        report("embedding bwd", bytes: 3 * rowBytes) { embeddingBackward(dTable, dY, tokens, n: t, c: c) }

        let weight = filled(c, seed: 8, low: 0.5), dWeight = filled(c, seed: 9), rstd = filled(t, seed: 10)
        defer { weight.deallocate(); dWeight.deallocate(); rstd.deallocate() }
        report("rmsnorm fwd", bytes: 2 * rowBytes) { rmsNormForward(y, rstd, x, weight, n: t, c: c, eps: 1e-5) }
        report("rmsnorm bwd", bytes: 4 * rowBytes) { rmsNormBackward(dX, dWeight, dY, x, weight, rstd, n: t, c: c) }

        let q = filled(t * heads * d, seed: 11)
        defer { q.deallocate() }
        let frequencies = RopeFrequencies(headDim: d, theta: 100000)
        let positions = UnsafeMutablePointer<Int32>.allocate(capacity: t)
        defer { positions.deallocate() }
        for i in 0..<t { positions[i] = Int32(i) }
        let qBytes = Double(t * heads * d) * floats
        report("rope fwd (q)", bytes: 2 * qBytes) { ropeForward(q, positions, frequencies, n: t, heads: heads) }
        report("rope bwd (q)", bytes: 2 * qBytes) { ropeBackward(q, positions, frequencies, n: t, heads: heads) }

        let gate = filled(t * f, seed: 12), up = filled(t * f, seed: 13), hidden = filled(t * f, seed: 14)
        let dGate = filled(t * f, seed: 15), dUp = filled(t * f, seed: 16)
        defer { for p in [gate, up, hidden, dGate, dUp] { p.deallocate() } }
        let mlpBytes = Double(t * f) * floats
        report("swiglu fwd", bytes: 3 * mlpBytes) { swigluForward(hidden, gate, up, count: t * f) }
        report("swiglu bwd", bytes: 7 * mlpBytes) { swigluBackward(dGate, dUp, hidden, gate, up, count: t * f) }

        report("residual fwd", bytes: 3 * rowBytes) { residualForward(y, x, dY, count: t * c) }
        report("residual bwd", bytes: 5 * rowBytes) { residualBackward(dX, dX2, dY, count: t * c) }

        benchAttention()
        benchCrossEntropy()
    }

    /// Attention at the long-context shape (one sequence of T) and at `lathe bench train`'s (4 sequences of 512).
    private func benchAttention() {
        for (batch, tokens) in [(1, t), (4, 512)] {
            let (qWidth, kvWidth, n) = (heads * d, kvHeads * d, batch * tokens)
            let q = filled(n * qWidth, seed: 20), k = filled(n * kvWidth, seed: 21), v = filled(n * kvWidth, seed: 22)
            let out = filled(n * qWidth, seed: 23), lse = filled(batch * heads * tokens, seed: 24), dOut = filled(n * qWidth, seed: 25)
            let dq = filled(n * qWidth, seed: 26), dk = filled(n * kvWidth, seed: 27), dv = filled(n * kvWidth, seed: 28)
            defer { for p in [q, k, v, out, lse, dOut, dq, dk, dv] { p.deallocate() } }
            // One causal product: 2·D flops per (query, visible key) pair per head.
            let product = 2.0 * Double(d * heads * batch) * Double(tokens) * Double(tokens + 1) / 2
            report("attention fwd (B=\(batch) T=\(tokens))", flops: 2 * product) {
                attentionForward(out, lse, q, k, v, segments: nil, batch: batch, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: d)
            }
            report("attention bwd (B=\(batch) T=\(tokens))", flops: 5 * product) {
                attentionBackward(dq, dk, dv, dOut, q, k, v, out, lse, segments: nil,
                                  batch: batch, tokens: tokens, heads: heads, kvHeads: kvHeads, headDim: d)
            }
        }
    }

    private func benchCrossEntropy() {
        let logits = filled(lossRows * vocab, seed: 30, low: -8, high: 8), dLogits = filled(lossRows * vocab, seed: 31)
        let losses = filled(lossRows, seed: 32)
        let targets = UnsafeMutablePointer<Int32>.allocate(capacity: lossRows)
        defer { logits.deallocate(); dLogits.deallocate(); losses.deallocate(); targets.deallocate() }
        for i in 0..<lossRows { targets[i] = Int32((i * 104729) % vocab) }
        let bytes = Double(lossRows * vocab * MemoryLayout<Float>.size)
        report("cross-entropy fwd", bytes: bytes) { crossEntropyForward(losses, logits, targets, n: lossRows, v: vocab) }
        report("cross-entropy bwd", bytes: 2 * bytes) {
            crossEntropyBackward(dLogits, logits, targets, dLoss: 1 / Float(lossRows), n: lossRows, v: vocab)
        }
    }

    private func report(_ name: String, bytes: Double, _ body: () -> Void) {
        let seconds = bestTime(body)
        print("\(name.padding(28))  \(format(bytes / seconds / 1e9)) GB/s   \(format(seconds * 1e3, decimals: 2)) ms")
    }

    private func report(_ name: String, flops: Double, _ body: () -> Void) {
        let seconds = bestTime(repeats: 3, body)
        let gflops = flops / seconds / 1e9
        print("\(name.padding(28))  \(format(gflops)) GFLOP/s  \(format(100 * gflops / rate))% of sgemm   \(format(seconds * 1e3, decimals: 1)) ms")
    }

    /// A buffer of `count` pseudo-random values in [low, high), deterministic per seed.
    private func filled(_ count: Int, seed: UInt64, low: Float = -1, high: Float = 1) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
        var random = SplitMix64(seed: seed)
        for i in 0..<count { p[i] = low + Float(random.nextUnit()) * (high - low) }
        return p
    }
}
