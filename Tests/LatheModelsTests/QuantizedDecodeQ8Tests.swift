import Foundation
import LatheFormats
@testable import LatheModels
import Testing

/// The opt-in decode product with activations rounded to 8 bits (`DecodeActivations.q8`, llama.cpp's numerics):
/// the rounding against the rule written out here, the integer dots against the rounded activations times the
/// dequantised weights summed in Double, and the AVX2 and portable kernel bodies against each other, bit for bit.
@Suite struct QuantizedDecodeQ8Tests {
    /// The rule: d = max|x| / 127, q = round-half-even(x · (1 / d)) (0 for an all-zero block), sum = Σ q.
    static func rounded(_ x: [Float]) -> [(d: Float, sum: Int32, q: [Int8])] {
        stride(from: 0, to: x.count, by: 32).map { start in
            let block = x[start..<(start + 32)]
            let d = block.reduce(Float(0)) { max($0, abs($1)) } / 127
            let inverse: Float = d != 0 ? 1 / d : 0
            let q = block.map { Int8(($0 * inverse).rounded(.toNearestOrEven)) }
            return (d, q.reduce(0) { $0 + Int32($1) }, q)
        }
    }

    static func quantized(_ x: [Float]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: x.count / 32 * QuantizedMatrix.q8BlockBytes)
        x.withUnsafeBufferPointer { xp in
            bytes.withUnsafeMutableBytes { QuantizedMatrix.quantizeActivations(xp.baseAddress!, count: x.count, into: $0.baseAddress!) }
        }
        return bytes
    }

    @Test func activationsAreRoundedByTheRule() {
        var random = TinyQuantizedGGUF.Random(21)
        var x = (0..<(32 * 64)).map { _ in (random.unit() - 0.5) * 6 }
        for k in 0..<32 { x[k] = 0 }                       // an all-zero block: d = 0, every q = 0
        for k in 32..<64 { x[k] = Float(k - 48) * 0.5 }    // ties at half steps: d = 8 / 127 · … exercises rounding
        x[64] = 127; x[65] = 0.5; x[66] = -0.5; x[67] = 1.5; x[68] = -127
        for body in Q8Kernels.availableBodies {
            let bytes = Q8Kernels.with(body) { Self.quantized(x) }
            for (b, expected) in Self.rounded(x).enumerated() {
                let base = b * QuantizedMatrix.q8BlockBytes
                let d = bytes.withUnsafeBytes { $0.load(fromByteOffset: base, as: Float.self) }
                let sum = bytes.withUnsafeBytes { $0.load(fromByteOffset: base + 4, as: Int32.self) }
                let q = (0..<32).map { Int8(bitPattern: bytes[base + 8 + $0]) }
                #expect(d.bitPattern == expected.d.bitPattern && sum == expected.sum && q == expected.q,
                        "block \(b) (\(body) body): d \(d) sum \(sum) vs \(expected.d) \(expected.sum)")
            }
        }
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func integerDotsMatchTheRoundedProduct(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 5)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        var random = TinyQuantizedGGUF.Random(6)
        for offset in [weights.layout.layers[0].down, weights.layout.layers[1].q, weights.layout.lmHead] {
            guard case .quantized(let q) = weights.matrix(at: offset) else {
                Issue.record("\(type.name): matrix at \(offset) is not kept quantised")
                continue
            }
            #expect(q.takesQ8Activations)
            let values = q.floats()
            let bound = { (w: UnsafePointer<Float>) in BoundMatrix(matrix: .quantized(q), w: w, tile: TileScratch(), activations: .q8) }
            #expect(weights.withWeights { bound($0).decodeRowLimit } == QuantizedMatrix.maximumVectors)
            for n in [1, 2, 3, 4, 5, 8, 9, 16] {
                let x = (0..<(n * q.columns)).map { _ in random.unit() - 0.5 }
                func product(_ x: [Float], rows n: Int) -> [Float] {
                    var y = [Float](repeating: .nan, count: n * q.rows)
                    weights.withWeights { bound($0).forward(&y, x, bias: nil, rows: n, out: q.rows, in: q.columns) }
                    return y
                }
                let y = product(x, rows: n)
                for body in Q8Kernels.availableBodies {
                    let forced = Q8Kernels.with(body) { product(x, rows: n) }
                    #expect(zip(y, forced).allSatisfy { $0.bitPattern == $1.bitPattern },
                            "\(type.name) n=\(n): the \(body) body differs from the default")
                }
                // Each vector's results are the same bits alone as in the batch (a batched decode step and a single
                // stream agree).
                let last = Array(x[((n - 1) * q.columns)...])
                #expect(zip(product(last, rows: 1), y[((n - 1) * q.rows)...]).allSatisfy { $0.bitPattern == $1.bitPattern },
                        "\(type.name) n=\(n): the last vector differs from its product alone")
                // Reference: the dequantised weights times the rounded activations, in Double. The kernel sums exact
                // integers per block, scales them in fp32 and folds Q4_1's offset in exactly (d·v + m before the
                // product, where the dequantised value rounds d·v + m to fp32): agreement to 1e-5 of Σ|terms|.
                let blocks = Self.rounded(x)
                for i in 0..<n {
                    for r in 0..<q.rows {
                        var sum = 0.0, magnitude = 0.0
                        for k in 0..<q.columns {
                            let block = blocks[(i * q.columns + k) / 32]
                            let term = Double(values[r * q.columns + k]) * Double(block.d) * Double(block.q[k % 32])
                            sum += term
                            magnitude += abs(term)
                        }
                        let got = Double(y[i * q.rows + r])
                        #expect(abs(got - sum) <= 1e-5 * max(magnitude, 1e-30),
                                "\(type.name) \(q.rows)×\(q.columns) n=\(n) vector \(i) row \(r): \(got) vs \(sum) (Σ|terms| \(magnitude))")
                    }
                }
            }
        }
    }

    /// Reordered rows (GGUF's Q/K permutation), slices, and a range of rows that starts and ends inside a tile: every
    /// body writes exactly the range, from its own stored rows, and agrees with the portable body bit for bit — for
    /// fewer vectors than a tile's lanes, a part-filled 16-lane tile and a full one.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func everyBodyReadsReorderedAndSlicedRows(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 12)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        guard case .quantized(let stored) = weights.matrix(at: weights.layout.layers[0].gate) else {
            Issue.record("\(type.name): the gate projection is not kept quantised")
            return
        }
        let order = (0..<stored.rows).map { ($0 * 37) % stored.rows }
        var random = TinyQuantizedGGUF.Random(13)
        for q in [stored.reorderingRows(order), stored.rowSlice(64..<192), stored.reorderingRows(order).rowSlice(5..<77)] {
            let rows = 3..<(q.rows - 2)
            for n in [1, 7, 13, 16] {
                let x = Self.quantized((0..<(n * q.columns)).map { _ in random.unit() - 0.5 })
                func product() -> [Float] {
                    var y = [Float](repeating: .nan, count: n * q.rows)
                    x.withUnsafeBytes { q.multiply(rows: rows, q8Vectors: $0.baseAddress!, count: n, into: &y, ldy: q.rows) }
                    return y
                }
                let expected = Q8Kernels.with(.portable) { product() }
                #expect(expected.indices.allSatisfy { rows.contains($0 % q.rows) != expected[$0].isNaN },
                        "\(type.name) \(q.rows) rows n=\(n): the portable body wrote outside rows \(rows) or left one unwritten")
                for body in Q8Kernels.availableBodies where body != .portable {
                    let got = Q8Kernels.with(body) { product() }
                    #expect(zip(expected, got).allSatisfy { $0.bitPattern == $1.bitPattern },
                            "\(type.name) \(q.rows) rows n=\(n): the \(body) body differs from the portable one")
                }
            }
        }
    }

    /// A whole decode step with rounded activations stays near the fp32 one (the rounding is about 1/254 of each
    /// block's largest activation), and a base of another type (Q4_K) ignores the option: bit-identical.
    @Test(arguments: [GGMLType.q4_1, .q4_K])
    func aDecodeStepStaysNearTheFP32Step(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 9)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ModelLoader.load(path)
        var rounded = loaded.weights
        rounded.decodeActivations = .q8
        let prompt: [Int32] = [1, 7, 3]
        func logits(_ weights: DecoderWeights) throws -> [Float] {
            let model = DecoderModel(weights: weights, rope: loaded.rope)
            var cache = KVCache(config: model.config, capacity: prompt.count + 1)
            _ = try model.step(prompt, cache: &cache)
            return try model.step([5], cache: &cache)
        }
        let (exact, approximate) = (try logits(loaded.weights), try logits(rounded))
        let scale = exact.map(abs).max() ?? 0
        if type == .q4_K {
            #expect(exact.map(\.bitPattern) == approximate.map(\.bitPattern))
        } else {
            #expect(exact != approximate, "the q8 option changed nothing")
            #expect(maxAbsDifference(exact, approximate) <= 0.05 * scale,
                    "logits differ by \(maxAbsDifference(exact, approximate)) of \(scale)")
        }
    }
}
