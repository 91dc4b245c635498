import LatheModels

/// Mean loss of a model with an adapter over examples (their targets only), without updating anything:
/// the held-out loss used to check that training generalises. Forward only, dropout off (PEFT's `eval()`), in a
/// workspace of one layer's activations, so it runs beside a training run's workspace without doubling it.
public enum AdapterLoss {
    public static func mean(_ model: DecoderModel, _ adapter: LoRAAdapter, _ examples: [TrainingExample],
                            rows: Int = 4, length: Int = 512) throws -> Double {
        let batches = makeMicroBatches(examples, rows: rows, length: length, layout: .padded, padToken: 0)
        guard let largest = batches.map({ $0.batch.tokens.count }).max() else { return .nan }
        let workspace = DecoderWorkspace(evaluating: model.config, lora: adapter.layout, rows: largest)
        var lossSum = 0.0, count = 0
        for batch in batches {
            let result = try model.evaluationLoss(batch.batch, targets: batch.targets, adapter: adapter, workspace: workspace)
            lossSum += result.lossSum
            count += result.targetCount
        }
        return lossSum / Double(max(count, 1))
    }
}
