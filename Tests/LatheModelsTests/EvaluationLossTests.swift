import Foundation
import LatheFormats
import LatheModels
import Testing

/// The held-out loss's forward-only pass (`DecoderModel.evaluationLoss`) against the training step it replaces:
/// without dropout the same ops on the same inputs, so the same loss bit for bit; with dropout configured, the
/// evaluation is the dropout-free loss (PEFT's `model.eval()`), which the training step's is not.
@Suite struct EvaluationLossTests {
    /// An adapter of `lora`'s shape with random A and B (B nonzero, so the adapter changes the loss), DoRA
    /// magnitudes the base's row norms.
    static func adapter(_ lora: LoRAConfig, _ model: DecoderModel) throws -> LoRAAdapter {
        let fresh = try LoRAAdapter(config: lora, model: model, seed: 3)
        var random = TinyQuantizedGGUF.Random(13)
        var parameters = fresh.parameters
        let rank = lora.rank
        for entry in fresh.layout.entries {
            for i in entry.a..<(entry.a + rank * entry.inFeatures) { parameters[i] = (random.unit() - 0.5) * 0.2 }
            for i in entry.b..<(entry.b + entry.outFeatures * rank) { parameters[i] = (random.unit() - 0.5) * 0.2 }
        }
        return LoRAAdapter(config: lora, layout: fresh.layout, tokens: fresh.tokens, parameters: parameters)
    }

    static func lora(dropout: Double, dora: Bool) -> LoRAConfig {
        LoRAConfig(rank: 4, alpha: 8, dropout: dropout, targets: LoRAConfig.Module.allCases, useDoRA: dora)
    }

    static func trainingLoss(_ model: DecoderModel, _ adapter: LoRAAdapter, _ batch: DecoderModel.Batch,
                             _ targets: [Int32]) throws -> StepLoss {
        var gradients = [Float](repeating: 0, count: adapter.parameterCount)
        let workspace = DecoderWorkspace(config: model.config, lora: adapter.layout, rows: batch.tokens.count)
        return try model.trainingStep(batch, targets: targets, adapter: adapter, gradients: &gradients,
                                      lossScale: 1, dropoutKey: 9, workspace: workspace)
    }

    @Test(arguments: ArchitectureGoldenTests.models, [false, true])
    func evaluationLossIsTheDropoutFreeTrainingLoss(model name: String, dora: Bool) throws {
        let model = try ArchitectureGoldenTests.model(name, "hf")
        let golden = try SafetensorsFile(path: Golden.path("\(name)/golden.safetensors"))
        let rows = try ArchitectureGoldenTests.rows(golden)
        let targets = rows.flatMap { row in row.indices.map { $0 + 1 < row.count ? row[$0 + 1] : -1 } }
        let batch = try DecoderModel.Batch(rows: rows)
        let dropped = try Self.adapter(Self.lora(dropout: 0.3, dora: dora), model)
        let plain = LoRAAdapter(config: Self.lora(dropout: 0, dora: dora), layout: dropped.layout, tokens: dropped.tokens,
                                parameters: dropped.parameters)

        let workspace = DecoderWorkspace(evaluating: model.config, lora: dropped.layout, rows: batch.tokens.count)
        let evaluated = try model.evaluationLoss(batch, targets: targets, adapter: dropped, workspace: workspace)
        let again = try model.evaluationLoss(batch, targets: targets, adapter: dropped, workspace: workspace)
        let trainedPlain = try Self.trainingLoss(model, plain, batch, targets)
        let trainedDropped = try Self.trainingLoss(model, dropped, batch, targets)

        #expect(evaluated.targetCount == targets.filter { $0 >= 0 }.count)
        #expect(evaluated.targetCount == trainedPlain.targetCount)
        #expect(evaluated.lossSum == trainedPlain.lossSum, "\(name): \(evaluated.lossSum) vs \(trainedPlain.lossSum)")
        #expect(again.lossSum == evaluated.lossSum)          // a reused workspace holds nothing over
        #expect(trainedDropped.lossSum != trainedPlain.lossSum)   // dropout is on in training, so off is visible
        #expect(workspace.byteCount < DecoderWorkspace(config: model.config, lora: dropped.layout,
                                                       rows: batch.tokens.count).byteCount)
    }
}
