import Foundation
import LatheFormats
import LatheModels
import Testing

/// Activation recomputation gives the same loss and gradients as keeping every activation (the recomputed forward
/// repeats the same ops on the same inputs, so bit for bit), and the plan refuses what cannot fit.
@Suite struct RecomputeAndPlanTests {
    @Test func recomputationGivesIdenticalLossAndGradients() throws {
        let path = try TinyQuantizedGGUF.write(.q4_K, seed: 3)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ModelLoader.load(path)
        let model = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        let lora = LoRAConfig(rank: 4, alpha: 8, dropout: 0.1, targets: LoRAConfig.Module.allCases)
        let layout = try LoRALayout(lora: lora, model: model.config)
        var random = TinyQuantizedGGUF.Random(11)
        let adapter = LoRAAdapter(config: lora, layout: layout,
                                  parameters: (0..<layout.totalCount).map { _ in (random.unit() - 0.5) * 0.2 })
        let (batch, targets) = try QuantizedBaseTests.batch()
        var results: [(Double, [Float], Int)] = []
        for recompute in [false, true] {
            var gradients = [Float](repeating: 0, count: layout.totalCount)
            let workspace = DecoderWorkspace(config: model.config, lora: layout, rows: 24, recompute: recompute)
            let loss = try model.trainingStep(batch, targets: targets, adapter: adapter, gradients: &gradients,
                                              lossScale: 1 / 22, dropoutKey: 5, workspace: workspace)
            results.append((loss.lossSum, gradients, workspace.byteCount))
            // The plan and `bench train` count a workspace without building it: the count is what gets built.
            let counted = DecoderWorkspace.trainingBytes(config: model.config, lora: layout, rows: 24, recompute: recompute)
            #expect(counted.activations + counted.workspace == workspace.byteCount)
            #expect(counted.activations > 0 && counted.workspace > 0)
        }
        #expect(results[0].0 == results[1].0)
        #expect(results[0].1 == results[1].1)
        #expect(results[0].1.contains { $0 != 0 })
        #expect(results[1].2 < results[0].2, "recompute holds \(results[1].2) bytes, not fewer than \(results[0].2)")
    }

    static func sevenBLlama() throws -> ModelConfig {
        try ModelConfig(ggufMetadata: [
            "general.architecture": .string("llama"), "llama.block_count": .uint32(32), "llama.context_length": .uint32(4096),
            "llama.embedding_length": .uint32(4096), "llama.feed_forward_length": .uint32(11008),
            "llama.attention.head_count": .uint32(32), "llama.vocab_size": .uint32(32000),
        ], tensorNames: ["output.weight"], file: "7b")
    }

    @Test func planRefusesWhatDoesNotFitNamingTheLargestTermAndTheFix() throws {
        let config = try Self.sevenBLlama()
        let fp32Base = 4 * WeightLayout(config: config).totalCount
        let plan = try TrainingPlan(config: config, baseBytes: fp32Base, lora: LoRAConfig(), batch: 1, length: 256,
                                    accumulation: 1, steps: 2, recompute: false, gflops: 100)
        #expect(plan.largest.name == "base weights")
        #expect(plan.peakBytes > fp32Base)
        do {
            try plan.checkFits(available: 24_000_000_000)
            Issue.record("a 7B fp32 base (\(fp32Base) bytes) was accepted in 24 GB")
        } catch let refusal as PlanRefusal {
            #expect(refusal.description.contains("largest term is base weights"))
            #expect(refusal.description.contains("base_format"))
            #expect(refusal.description.contains("24.00 GB are available"))
        }
        // Long sequences: activations dominate and recomputation is the fix the refusal names.
        let long = try TrainingPlan(config: config, baseBytes: 4_000_000_000, lora: LoRAConfig(), batch: 1, length: 4096,
                                    accumulation: 1, steps: 2, recompute: false, gflops: 100)
        #expect(long.largest.name == "activations")
        #expect(throws: PlanRefusal.self) { try long.checkFits(available: 24_000_000_000) }
        let recomputed = try TrainingPlan(config: config, baseBytes: 4_000_000_000, lora: LoRAConfig(), batch: 1,
                                          length: 4096, accumulation: 1, steps: 2, recompute: true, gflops: 100)
        #expect(recomputed.peakBytes < long.peakBytes / 3)
        try recomputed.checkFits(available: 24_000_000_000)
    }

    @Test func planReadsTheBaseSizeFromTheFileHeaders() throws {
        let path = try TinyQuantizedGGUF.write(.q4_1, seed: 4)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try ModelLoader.load(path)
        #expect(try ModelLoader.planBase(path, format: .auto).bytes == loaded.weights.byteCount)
        let dense = try ModelLoader.load(path, format: .f32)
        #expect(try ModelLoader.planBase(path, format: .f32).bytes == dense.weights.byteCount)
        let q8 = try ModelLoader.load(path, format: .q8_0)
        #expect(q8.weights.keepsMatricesQuantized && q8.storageTypes["model.layers.0.mlp.up_proj.weight"] == "Q8_0")
        #expect(try ModelLoader.planBase(path, format: .q8_0).bytes == q8.weights.byteCount)
    }
}
