import Foundation
import LatheFormats
@testable import LatheModels
import Testing

/// The decode product (`QuantizedMatrix.multiply`, dequantise-and-dot from the stored bytes, up to
/// `BoundMatrix.decodeRows` rows) against the same matrix densified to fp32 at load: bit-identical (the fp32 base
/// decodes through `QuantizedMatrix.multiplyRows`, which sums the same values in the same order), and within 1e-6 of
/// the largest magnitude of the products summed in Double.
@Suite struct QuantizedDecodeTests {
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0, .q4_K, .q6_K, .f16, .bf16])
    func decodeRowsMatchTheFP32Product(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        let dense = weights.densified()
        let layout = weights.layout
        var random = TinyQuantizedGGUF.Random(4)
        for offset in [layout.layers[0].down, layout.layers[1].q, layout.lmHead] {
            guard case .quantized(let q) = weights.matrix(at: offset) else {
                Issue.record("\(type.name): matrix at \(offset) is not kept quantised")
                continue
            }
            let values = q.floats()
            for n in 1...BoundMatrix.decodeRows {
                let x = (0..<(n * q.columns)).map { _ in random.unit() - 0.5 }
                var y = [Float](repeating: .nan, count: n * q.rows), fromDense = y
                weights.withWeights { w in
                    BoundMatrix(matrix: .quantized(q), w: w, tile: TileScratch()).forward(&y, x, bias: nil, rows: n, out: q.rows, in: q.columns)
                }
                dense.withWeights { w in
                    BoundMatrix(matrix: dense.matrix(at: offset), w: w, tile: TileScratch())
                        .forward(&fromDense, x, bias: nil, rows: n, out: q.rows, in: q.columns)
                }
                #expect(y.map(\.bitPattern) == fromDense.map(\.bitPattern), "\(type.name) \(q.rows)×\(q.columns) n=\(n)")
                let reference = (0..<(n * q.rows)).map { index -> Float in
                    let (i, r) = (index / q.rows, index % q.rows)
                    return Float((0..<q.columns).reduce(0.0) { $0 + Double(values[r * q.columns + $1]) * Double(x[i * q.columns + $1]) })
                }
                let scale = reference.map(abs).max() ?? 0
                #expect(scale > 0 && maxAbsDifference(y, reference) <= 1e-6 * scale,
                        "\(type.name) \(q.rows)×\(q.columns) n=\(n): differs by \(maxAbsDifference(y, reference)) of \(scale)")
            }
        }
    }

    /// Every body of the C kernel (`lathe_matvec_f32`: portable, and AVX2 where the build targets it) returns
    /// `multiplyRows`'s bits over the dequantised matrix, for up to `maximumVectors` vectors (groups of four and a
    /// remainder) and row ranges that start and end anywhere.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0])
    func everyKernelBodyMatchesTheFP32Rows(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 5)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        guard case .quantized(let q) = weights.matrix(at: weights.layout.layers[0].down) else {
            Issue.record("\(type.name): the down projection is not kept quantised")
            return
        }
        #expect(FP32DecodeKernels.availableBodies.contains(.portable))
        let values = q.floats()
        var random = TinyQuantizedGGUF.Random(6)
        for n in [1, 2, 3, 4, 5, 8, 9, 16] {
            let x = (0..<(n * q.columns)).map { _ in random.unit() - 0.5 }
            let range = 3..<(q.rows - 2)
            var expected = [Float](repeating: .nan, count: n * q.rows)
            values.withUnsafeBufferPointer { w in
                QuantizedMatrix.multiplyRows(range, of: w.baseAddress!, columns: q.columns, vectors: x, count: n,
                                             into: &expected, ldy: q.rows)
            }
            for body in FP32DecodeKernels.availableBodies {
                var y = [Float](repeating: .nan, count: n * q.rows)
                var scratch = [Float](repeating: 0, count: q.scratchCount(vectors: n))
                FP32DecodeKernels.with(body) {
                    q.multiply(rows: range, vectors: x, count: n, into: &y, ldy: q.rows, scratch: &scratch)
                }
                let differing = y.indices.filter { y[$0].bitPattern != expected[$0].bitPattern }
                #expect(differing.isEmpty, "\(type.name) \(body) n=\(n): \(differing.count) results differ, first at \(differing.first ?? -1)")
                #expect(y[0].isNaN && y[q.rows - 1].isNaN, "\(type.name) \(body) n=\(n): wrote outside the rows")
            }
        }
    }

    /// Reordered rows (GGUF's Q/K permutation) and a slice of rows read the right stored rows.
    @Test func reorderedRowsAndSlicesReadTheirOwnRows() throws {
        let path = try TinyQuantizedGGUF.write(.q4_1, seed: 8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        guard case .quantized(let stored) = weights.matrix(at: weights.layout.layers[0].gate) else {
            Issue.record("the gate projection is not kept quantised")
            return
        }
        let order = (0..<stored.rows).map { ($0 * 37) % stored.rows }
        var random = TinyQuantizedGGUF.Random(10)
        let x = (0..<stored.columns).map { _ in random.unit() - 0.5 }
        for q in [stored.reorderingRows(order), stored.rowSlice(64..<192), stored.reorderingRows(order).rowSlice(5..<77)] {
            let values = q.floats()
            var y = [Float](repeating: .nan, count: q.rows)
            var scratch = [Float](repeating: 0, count: q.scratchCount(vectors: 1))
            x.withUnsafeBufferPointer { xp in
                q.multiply(rows: 0..<q.rows, vectors: xp.baseAddress!, count: 1, into: &y, ldy: q.rows, scratch: &scratch)
            }
            for r in 0..<q.rows {
                let expected = (0..<q.columns).reduce(Float(0)) { $0 + values[r * q.columns + $1] * x[$1] }
                #expect(abs(y[r] - expected) <= 1e-5 * max(1, abs(expected)), "row \(r): \(y[r]) vs \(expected)")
            }
        }
    }
}
