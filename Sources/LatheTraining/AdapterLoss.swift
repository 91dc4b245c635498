import LatheModels

/// Mean loss of a model with an adapter over examples (their targets only), without updating anything:
/// the held-out loss used to check that training generalises.
public enum AdapterLoss {
    public static func mean(_ model: DecoderModel, _ adapter: LoRAAdapter, _ examples: [TrainingExample],
                            rows: Int = 4, length: Int = 512) throws -> Double {
        let batches = makeMicroBatches(examples, rows: rows, length: length, layout: .padded, padToken: 0)
        guard let largest = batches.map({ $0.batch.tokens.count }).max() else { return .nan }
        let workspace = DecoderWorkspace(config: model.config, lora: adapter.layout, rows: largest)
        var scratch = [Float](repeating: 0, count: adapter.parameterCount)
        var lossSum = 0.0, count = 0
        for batch in batches {
            let result = try model.trainingStep(batch.batch, targets: batch.targets, adapter: adapter, gradients: &scratch,
                                                lossScale: 0, dropoutKey: 0, workspace: workspace)
            lossSum += result.lossSum
            count += result.targetCount
        }
        return lossSum / Double(max(count, 1))
    }
}
