import Foundation
import LatheFormats
import LatheModels
import Testing

/// A PEFT adapter written by Lathe (`lathe train` on SmolLM2, r=2 on q_proj/v_proj) gives, through Lathe, the
/// logits `peft.PeftModel.from_pretrained` gives on transformers' model of the same GGUF base
/// (golden from Scripts/goldens/peft_export.py).
@Suite(.enabled(if: SmolLM2.isPresent, "run `make model` to fetch SmolLM2-135M-Instruct"))
struct PEFTExportTests {
    static let directory = Golden.path("peft-export")
    static let adapterDirectory = Golden.path("peft-export/adapter")

    @Test func logitsEqualPEFTOnTransformers() throws {
        let golden = try SafetensorsFile(path: Self.directory + "/golden.safetensors")
        let ids = try Golden.integers(golden, "input_ids")
        let sampled = try Golden.integers(golden, "sampled.ids").map(Int.init)
        let loaded = try ModelLoader.load(SmolLM2.path)
        let adapter = try PEFTAdapter.read(Self.adapterDirectory, model: loaded.config)
        let batch = DecoderModel.Batch(tokens: ids, positions: ids.indices.map { Int32($0) }, segments: nil,
                                     batch: 1, length: ids.count)
        let vocab = loaded.config.vocabSize

        func check(_ weights: DecoderWeights, _ prefix: String) throws -> [Float] {
            let logits = try DecoderModel(weights: weights, rope: loaded.rope).logits(batch).storage
            let ours = ids.indices.flatMap { t in sampled.map { logits[t * vocab + $0] } }
            let sampledDifference = maxAbsDifference(ours, try golden.floats("\(prefix).sampled"))
            let logSumExp = ids.indices.map { t in Self.logSumExp(logits[(t * vocab)..<((t + 1) * vocab)]) }
            let logSumExpDifference = maxAbsDifference(logSumExp, try golden.floats("\(prefix).logsumexp"))
            // Issue bar: logits equal within 1e-3 (max abs), at every 97th id and summarised over the whole
            // vocabulary by the log-sum-exp at every position.
            #expect(sampledDifference < 1e-3, "\(prefix): max abs logit difference \(sampledDifference)")
            #expect(logSumExpDifference < 1e-3, "\(prefix): max abs log-sum-exp difference \(logSumExpDifference)")
            return logits
        }

        let base = try check(loaded.weights, "base")
        let merged = try check(loaded.weights.merged(with: adapter), "adapter")
        let topIds = try Golden.integers(golden, "adapter.top.ids").map(Int.init)
        let topCount = topIds.count / ids.count
        let ourTop = topIds.indices.map { merged[($0 / topCount) * vocab + topIds[$0]] }
        #expect(maxAbsDifference(ourTop, try golden.floats("adapter.top.logits")) < 1e-3)
        // The comparison is only meaningful if the adapter moves the logits far more than the tolerance.
        #expect(maxAbsDifference(base, merged) > 1)
    }

    @Test func fixtureIsWhatTheWriterWritesToday() throws {
        let loaded = try ModelLoader.load(SmolLM2.path)
        let adapter = try PEFTAdapter.read(Self.adapterDirectory, model: loaded.config)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("peft-export-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        try PEFTAdapter.write(adapter, baseModel: "Checkpoints/base/SmolLM2-135M-Instruct.Q4_1.gguf", to: out)
        for name in ["adapter_model.safetensors", "adapter_config.json"] {
            let fixture = FileManager.default.contents(atPath: Self.adapterDirectory + "/" + name)
            let written = FileManager.default.contents(atPath: out + "/" + name)
            #expect(fixture != nil && fixture == written,
                    "\(name) differs from the writer's output: rerun Scripts/goldens/peft_export.py")
        }
    }

    static func logSumExp(_ row: ArraySlice<Float>) -> Float {
        let top = Double(row.max() ?? 0)
        return Float(top + log(row.reduce(0.0) { $0 + exp(Double($1) - top) }))
    }
}
