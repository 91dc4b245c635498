import Foundation
import LatheSupport
import LatheModels
@testable import LatheTraining
import Testing

@Suite struct AdapterIOTests {
    func tinyModel() throws -> DecoderModel {
        let loaded = try ModelLoader.load(PEFTGoldenTests.modelFixtures.appendingPathComponent("tiny-llama/hf").path)
        return DecoderModel(weights: loaded.weights, rope: loaded.rope)
    }

    func randomAdapter(_ config: ModelConfig, rsLoRA: Bool = false) throws -> LoRAAdapter {
        let lora = LoRAConfig(rank: 4, alpha: 8, useRSLoRA: rsLoRA, targets: [.q, .v, .down], layers: [1])
        var adapter = try LoRAAdapter(config: lora, model: config, seed: 3)
        var random = SplitMix64(seed: 9)
        for i in adapter.parameters.indices { adapter.parameters[i] = Float(random.nextUnit() - 0.5) * 0.2 }
        return adapter
    }

    @Test func peftDirectoryRoundTrips() throws {
        let model = try tinyModel()
        let adapter = try randomAdapter(model.config, rsLoRA: true)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-peft-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PEFTAdapter.write(adapter, baseModel: "tiny-llama", to: directory)
        let read = try PEFTAdapter.read(directory, model: model.config)
        #expect(read.config == adapter.config)
        #expect(read.parameters == adapter.parameters)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: directory)
            .appendingPathComponent("adapter_config.json"))) as! [String: Any]
        #expect(config["peft_type"] as? String == "LORA")
        #expect(config["target_modules"] as? [String] == ["q_proj", "v_proj", "down_proj"])
        #expect(config["layers_to_transform"] as? [Int] == [1])
    }

    /// Folding the adapter into the base (W += s·B·A) gives the same loss as running it beside the base.
    @Test func mergedWeightsEqualAdapterForward() throws {
        let model = try tinyModel()
        let adapter = try randomAdapter(model.config)
        let tokens: [Int32] = [5, 17, 200, 3, 99, 41, 7, 250]
        let batch = DecoderModel.Batch(tokens: tokens, positions: (0..<8).map { Int32($0) }, segments: nil, batch: 1, length: 8)
        let targets = tokens.indices.map { $0 + 1 < tokens.count ? tokens[$0 + 1] : -1 }
        func loss(_ model: DecoderModel, _ adapter: LoRAAdapter) throws -> Double {
            var gradients = [Float](repeating: 0, count: adapter.layout.totalCount)
            let workspace = DecoderWorkspace(config: model.config, lora: adapter.layout, rows: 8)
            let result = try model.trainingStep(batch, targets: targets, adapter: adapter, gradients: &gradients,
                                                lossScale: 1, dropoutKey: 0, workspace: workspace)
            return result.lossSum / Double(result.targetCount)
        }
        let withAdapter = try loss(model, adapter)
        var zero = adapter
        for i in zero.parameters.indices { zero.parameters[i] = 0 }
        let merged = DecoderModel(weights: model.weights.merged(with: adapter), rope: model.rope)
        let withMerged = try loss(merged, zero)
        let unchanged = try loss(model, zero)
        #expect(abs(withAdapter - withMerged) < 1e-5)
        #expect(abs(withAdapter - unchanged) > 1e-3, "the adapter must change the loss for this test to mean anything")
    }

    /// `use_dora: true` without `lora_magnitude_vector` tensors is refused, naming the missing tensor.
    @Test func peftDirectoryWithDoRAButNoMagnitudesIsRefused() throws {
        let model = try tinyModel()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-dora-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PEFTAdapter.write(try randomAdapter(model.config), baseModel: "tiny", to: directory)
        let url = URL(fileURLWithPath: directory).appendingPathComponent("adapter_config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        config["use_dora"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: url)
        let error = #expect(throws: ModelError.self) { try PEFTAdapter.read(directory, model: model.config) }
        #expect("\(error!)".contains("lora_magnitude_vector"))
    }
}

@Suite struct MergedExportTests {
    /// A merged model written as GGUF (Q/K re-permuted) and as an HF directory loads back to the same logits.
    @Test func mergedGGUFAndHFDirectoryReloadToTheSameLogits() throws {
        let basePath = PEFTGoldenTests.modelFixtures.appendingPathComponent("tiny-llama/tiny-llama-F32.gguf").path
        let base = try ModelLoader.load(basePath)
        var adapter = try LoRAAdapter(config: LoRAConfig(rank: 4, alpha: 8), model: base.config, seed: 1)
        var random = SplitMix64(seed: 2)
        for i in adapter.parameters.indices { adapter.parameters[i] = Float(random.nextUnit() - 0.5) * 0.2 }
        let merged = base.weights.merged(with: adapter)
        let batch = try DecoderModel.Batch(rows: [[3, 40, 7, 300, 12]])
        let expected = try DecoderModel(weights: merged, rope: base.rope).logits(batch)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-merged-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try MergedExport.writeGGUF(merged, baseGGUF: basePath, to: directory + ".gguf")
        defer { try? FileManager.default.removeItem(atPath: directory + ".gguf") }
        try MergedExport.writeHF(merged, base: base, to: directory)
        for path in [directory + ".gguf", directory] {
            let reloaded = try ModelLoader.load(path)
            let logits = try DecoderModel(weights: reloaded.weights, rope: reloaded.rope).logits(batch)
            #expect(logits.maxAbsDifference(expected) < 1e-5, "\(path)")
        }
    }
}
