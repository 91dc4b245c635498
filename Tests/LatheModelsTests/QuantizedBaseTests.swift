import Foundation
import LatheFormats
@testable import LatheModels
import Testing

/// A base kept in its file's form (dequantised tile by tile into the sgemm) against the same file dequantised to fp32
/// at load, for every storage type Lathe reads. Both multiply the same fp32 values. The forward tiles over output
/// rows, so each dot product is whole, but OpenBLAS picks its kernels and thread split by the sgemm's shape, so a
/// tile's columns may round differently from the same columns of one large sgemm (measured: bit-identical while
/// a matrix fits one tile, differences of a few ulp once it does not). The backward's input gradient dx = dY·W also
/// sums over the output dimension tile by tile when a tile of whole columns of W would be too large (the LM head). Bars, relative to the largest magnitude: logits 2e-6, loss 1e-6, LoRA
/// gradients 1e-5 (fp32 unit round-off is 6e-8; measured over the 12 types: logits ≤ 5.8e-7, loss ≤ 5.4e-9, gradients
/// ≤ 6.3e-7).
@Suite struct QuantizedBaseTests {
    static let types: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .f16, .bf16]

    /// Two rows of 12 tokens; every position but each row's last predicts the next.
    static func batch() throws -> (DecoderModel.Batch, [Int32]) {
        let ids: [Int32] = (0..<24).map { Int32(($0 * 37 + 11) % TinyQuantizedGGUF.vocab) }
        let targets = (0..<24).map { $0 % 12 == 11 ? -1 : ids[$0 + 1] }
        return (try DecoderModel.Batch(rows: [Array(ids[0..<12]), Array(ids[12..<24])]), targets)
    }

    /// A rank-4 adapter on all seven projections with random A and B (B nonzero, so the LoRA path matters).
    static func adapter(_ config: ModelConfig) throws -> LoRAAdapter {
        let lora = LoRAConfig(rank: 4, alpha: 8, targets: LoRAConfig.Module.allCases)
        let layout = try LoRALayout(lora: lora, model: config)
        var random = TinyQuantizedGGUF.Random(7)
        let parameters = (0..<layout.totalCount).map { _ in (random.unit() - 0.5) * 0.2 }
        return LoRAAdapter(config: lora, layout: layout, parameters: parameters)
    }

    static func step(_ model: DecoderModel, _ adapter: LoRAAdapter) throws -> (loss: Double, gradients: [Float]) {
        let (batch, targets) = try batch()
        var gradients = [Float](repeating: 0, count: adapter.layout.totalCount)
        let workspace = DecoderWorkspace(config: model.config, lora: adapter.layout, rows: 24)
        let result = try model.trainingStep(batch, targets: targets, adapter: adapter, gradients: &gradients,
                                            lossScale: 1 / 22, dropoutKey: 0, workspace: workspace)
        return (result.lossSum, gradients)
    }

    @Test(arguments: types)
    func lossAndGradientsEqualTheFP32Path(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 1)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let kept = try ModelLoader.load(path)
        let dense = try ModelLoader.load(path, format: .f32)
        #expect(kept.weights.keepsMatricesQuantized && !dense.weights.keepsMatricesQuantized)
        #expect(kept.weights.byteCount < dense.weights.byteCount / 2 + 4 * dense.weights.layout.vectorCount)
        let quantModel = DecoderModel(weights: kept.weights, rope: kept.rope)
        let denseModel = DecoderModel(weights: dense.weights, rope: dense.rope)
        let (batch, _) = try Self.batch()
        let (a, b) = (try quantModel.logits(batch).storage, try denseModel.logits(batch).storage)
        let logitScale = b.map(abs).max() ?? 0
        #expect(maxAbsDifference(a, b) <= 2e-6 * logitScale, "\(type.name): logits differ by \(maxAbsDifference(a, b))")

        let adapter = try Self.adapter(kept.config)
        let quant = try Self.step(quantModel, adapter), reference = try Self.step(denseModel, adapter)
        #expect(quant.loss.isFinite && quant.loss > 0)
        #expect(abs(quant.loss - reference.loss) <= 1e-6 * reference.loss, "\(type.name): loss \(quant.loss) vs \(reference.loss)")
        let largest = reference.gradients.map(abs).max() ?? 0
        let worst = zip(quant.gradients, reference.gradients).map { abs($0 - $1) }.max() ?? 0
        #expect(largest > 0 && worst <= 1e-5 * largest, "\(type.name): gradient difference \(worst) of \(largest)")
    }

    /// The tiny model's down projection (256 × 1280), gate (1280 × 256) and LM head (1100 × 256) through a scratch
    /// of 32 768 floats: forward over 256-row tiles, the input gradient over 512-column tiles (down) or 256-row
    /// tiles (gate, head), against the same products on the base densified to fp32 (one sgemm each, the fp32 path).
    /// Bar: 1e-6 of the largest magnitude (a tile may round as OpenBLAS's kernel for its shape does). The input
    /// gradient is taken twice: added to 0.25s, and written over NaNs (whose contents it must never read).
    @Test(arguments: [GGMLType.q4_1, .q4_K, .q8_0, .q5_0, .bf16])
    func productsOverManyTilesEqualOneSgemm(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 5)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        let dense = weights.densified()
        let tile = TileScratch(floats: 32_768)
        #expect(tile.columns(rows: 256, of: 1280) == 512 && tile.columns(rows: 1280, of: 256) == nil && tile.rows(columns: 256) == 256)
        let layout = weights.layout
        let n = 24
        var random = TinyQuantizedGGUF.Random(9)
        for offset in [layout.layers[0].down, layout.layers[1].gate, layout.lmHead] {
            guard case .quantized(let q) = weights.matrix(at: offset) else {
                Issue.record("\(type.name): matrix at \(offset) is not kept quantised")
                continue
            }
            let (out, inFeatures) = (q.rows, q.columns)
            let x = (0..<(n * inFeatures)).map { _ in random.unit() - 0.5 }
            let dY = (0..<(n * out)).map { _ in random.unit() - 0.5 }
            var y = [Float](repeating: 0, count: n * out), yRef = y
            var dx = [Float](repeating: 0.25, count: n * inFeatures), dxRef = dx
            var written = [Float](repeating: .nan, count: n * inFeatures), writtenRef = written
            weights.withWeights { w in
                let bound = BoundMatrix(matrix: .quantized(q), w: w, tile: tile)
                bound.forward(&y, x, bias: nil, rows: n, out: out, in: inFeatures)
                bound.inputGradient(&dx, dY, rows: n, out: out, in: inFeatures, accumulate: true)
                bound.inputGradient(&written, dY, rows: n, out: out, in: inFeatures, accumulate: false)
            }
            dense.withWeights { w in
                let bound = BoundMatrix(matrix: dense.matrix(at: offset), w: w, tile: tile)
                bound.forward(&yRef, x, bias: nil, rows: n, out: out, in: inFeatures)
                bound.inputGradient(&dxRef, dY, rows: n, out: out, in: inFeatures, accumulate: true)
                bound.inputGradient(&writtenRef, dY, rows: n, out: out, in: inFeatures, accumulate: false)
            }
            let (yScale, dxScale) = (yRef.map(abs).max() ?? 0, dxRef.map(abs).max() ?? 0)
            #expect(yScale > 0 && maxAbsDifference(y, yRef) <= 1e-6 * yScale, "\(type.name) \(out)×\(inFeatures): forward differs by \(maxAbsDifference(y, yRef))")
            #expect(dxScale > 0 && maxAbsDifference(dx, dxRef) <= 1e-6 * dxScale, "\(type.name) \(out)×\(inFeatures): input gradient differs by \(maxAbsDifference(dx, dxRef))")
            #expect(written.allSatisfy(\.isFinite) && writtenRef.allSatisfy(\.isFinite), "\(type.name): a NaN of the buffer survived")
            #expect(maxAbsDifference(written, writtenRef) <= 1e-6 * dxScale, "\(type.name) \(out)×\(inFeatures): written input gradient differs by \(maxAbsDifference(written, writtenRef))")
            #expect(maxAbsDifference(written.map { $0 + 0.25 }, dx) <= 1e-6 * dxScale, "\(type.name) \(out)×\(inFeatures): written and added gradients differ")
        }
    }

    /// A block of whole columns dequantises to exactly those columns of the whole rows, with rows reordered too.
    @Test(arguments: [GGMLType.q4_0, .q5_1, .q3_K, .q6_K, .f16])
    func columnBlocksDequantiseAsTheirRows(type: GGMLType) throws {
        let path = try TinyQuantizedGGUF.write(type, seed: 6)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let weights = try ModelLoader.load(path).weights
        guard case .quantized(let stored) = weights.matrix(at: weights.layout.layers[0].down) else {
            Issue.record("\(type.name): the down projection is not kept quantised")
            return
        }
        let order = (0..<stored.rows).map { ($0 * 37) % stored.rows }
        for q in [stored, stored.reorderingRows(order)] {
            let whole = q.floats()
            let columns = 256..<768, rows = 3..<40
            var block = [Float](repeating: .nan, count: rows.count * columns.count)
            block.withUnsafeMutableBufferPointer { q.dequantize(rows: rows, columns: columns, into: $0.baseAddress!) }
            let expected = rows.flatMap { r in whole[(r * q.columns + columns.lowerBound)..<(r * q.columns + columns.upperBound)] }
            #expect(block.map(\.bitPattern) == expected.map(\.bitPattern), "\(type.name)")
        }
    }

    /// Q4_K quantisation on load, checked against the dequantiser (no golden): every value comes back within half a
    /// step of its group's grid plus what rounding the 6-bit scale and min costs — bar: 0.5·range/15 of its group +
    /// 0.02·(largest range)/15 + 0.01·(largest min) of its super-block — and the RMS error of Gaussian-like values
    /// with 2% outliers (8×) is below 15% of their RMS (4-bit steps of range/15; measured 10.4%).
    @Test func q4KQuantisationRoundTripsThroughTheDequantiser() throws {
        var random = TinyQuantizedGGUF.Random(11)
        let (rows, columns) = (24, 512)
        var values = [Float](repeating: 0, count: rows * columns)
        for i in values.indices {
            var sum: Float = 0
            for _ in 0..<4 { sum += random.unit() - 0.5 }
            values[i] = random.unit() < 0.02 ? 8 * sum : sum   // a few outliers widen some groups' ranges
        }
        for i in 256..<512 { values[i] = 0.125 }   // a constant super-block
        let matrix = try values.withUnsafeBufferPointer {
            try QuantizedMatrix(encoding: $0, rows: rows, columns: columns, as: .q4_K, name: "round trip")
        }
        #expect(matrix.type == .q4_K && matrix.byteCount == rows * columns / 256 * 144)
        let back = matrix.floats()
        var squaredError = 0.0, squared = 0.0
        for block in 0..<(rows * columns / 256) {
            let slice = values[(block * 256)..<((block + 1) * 256)]
            let groups = (0..<8).map { g in slice.dropFirst(g * 32).prefix(32) }
            let ranges = groups.map { g in g.max()! - min(0, g.min()!) }
            let (largestRange, largestMin) = (ranges.max()!, groups.map { -min(0, $0.min()!) }.max()!)
            for (g, group) in groups.enumerated() {
                let bar = 0.5 * ranges[g] / 15 + 0.02 * largestRange / 15 + 0.01 * largestMin + 1e-6
                for i in group.indices {
                    let error = abs(back[i] - values[i])
                    squaredError += Double(error * error)
                    squared += Double(values[i] * values[i])
                    if error > bar { Issue.record("value \(i): \(values[i]) came back as \(back[i]) (bar \(bar))") }
                }
            }
        }
        #expect((squaredError / squared).squareRoot() < 0.15, "relative RMS error \((squaredError / squared).squareRoot())")

        // On load: `base_format: q4_k` keeps every matrix as Q4_K, and the plan reads the same bytes.
        let path = try TinyQuantizedGGUF.write(.f32, seed: 12)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let q4 = try ModelLoader.load(path, format: .q4_k)
        #expect(q4.weights.keepsMatricesQuantized && q4.storageTypes["model.layers.1.mlp.down_proj.weight"] == "Q4_K")
        #expect(try ModelLoader.planBase(path, format: .q4_k).bytes == q4.weights.byteCount)
    }


    @Test func kvCacheStepAndScoringUseTheKeptMatrices() throws {
        let path = try TinyQuantizedGGUF.write(.q4_K, seed: 2)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let kept = try ModelLoader.load(path), dense = try ModelLoader.load(path, format: .f32)
        let models = [DecoderModel(weights: kept.weights, rope: kept.rope), DecoderModel(weights: dense.weights, rope: dense.rope)]
        let (batch, targets) = try Self.batch()
        let steps = try models.map { model -> [Float] in
            var cache = KVCache(config: model.config, capacity: 16)
            _ = try model.step(Array(batch.tokens[0..<5]), cache: &cache)
            return try model.step([batch.tokens[5]], cache: &cache)
        }
        #expect(maxAbsDifference(steps[0], steps[1]) <= 2e-6 * (steps[1].map(abs).max() ?? 0))
        let scores = try models.map { try $0.tokenLogProbs(batch, targets: targets, chunkRows: 5) }
        #expect(maxAbsDifference(scores[0], scores[1]) <= 2e-6 * (scores[1].map(abs).max() ?? 0))
    }

    @Test func fusedProjectionsAndSafetensorsBF16StayInTheirForm() throws {
        for (model, variant) in [("tiny-phi3", "gguf-Q8_0"), ("tiny-llama", "hf-bf16"), ("tiny-llama", "gguf-Q4_0")] {
            let path = Golden.modelPath(model, variant: variant)
            let kept = try ModelLoader.load(path), dense = try ModelLoader.load(path, format: .f32)
            #expect(kept.weights.keepsMatricesQuantized, "\(model) \(variant)")
            let ids: [Int32] = [1, 5, 9, 2, 7, 3, 4]
            let batch = try DecoderModel.Batch(rows: [ids])
            let a = try DecoderModel(weights: kept.weights, rope: kept.rope).logits(batch).storage
            let b = try DecoderModel(weights: dense.weights, rope: dense.rope).logits(batch).storage
            // These matrices fit one tile: one sgemm each, as on the fp32 path.
            #expect(a == b, "\(model) \(variant): max abs difference \(maxAbsDifference(a, b))")
        }
    }

    @Test func anAllF32FileStaysDense() throws {
        let loaded = try ModelLoader.load(Golden.modelPath("tiny-llama", variant: "gguf-F32"))
        #expect(!loaded.weights.keepsMatricesQuantized)
    }
}
