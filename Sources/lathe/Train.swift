import ArgumentParser
import Foundation
import LatheModels
import LatheRecipes
import LatheSupport
import LatheTensors
import LatheTraining

/// `lathe train`: LoRA training from flags, without a recipe — the same code as the recipe's train stage.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a LoRA adapter on JSONL/CSV records (text, prompt/completion, alpaca or chat); writes a PEFT directory."
    )

    @Option(help: "Base model: a GGUF file or an HF directory.") var model: String
    @Option(name: .customLong("data"), help: "Training records (repeatable): .jsonl, .csv or a folder of .txt/.md.") var data: [String]
    @Option(help: "Held-out records; their loss is printed before and after training.") var evalData: String?
    @Option(help: "Output directory for the PEFT adapter.") var out: String
    @Option(name: .customLong("from-adapter"), help: "Continue training this PEFT adapter (its rank, alpha, targets and rsLoRA setting replace --rank, --alpha, --targets, --rslora).")
    var fromAdapter: String?
    @Option(help: "LoRA rank.") var rank = LoRAConfig().rank
    @Option(help: "LoRA alpha.") var alpha = LoRAConfig().alpha
    @Option(help: "LoRA dropout.") var dropout = LoRAConfig().dropout
    @Flag(help: "rsLoRA scaling (alpha/sqrt(rank)).") var rslora = false
    @Option(help: "Projections to adapt, comma-separated, or all-linear.") var targets = "all-linear"
    @Option(help: "Learning rate.") var lr = 2e-4
    @Option(help: "Schedule: constant, linear or cosine.") var schedule = "cosine"
    @Option(help: "Warm-up steps.") var warmup = 0
    @Option(help: "AdamW weight decay.") var weightDecay = 0.0
    @Option(help: "Global gradient-norm clip (0: off).") var maxGradNorm = 1.0
    @Option(help: "Rows per micro-batch.") var batchSize = 4
    @Option(help: "Micro-batches per optimizer step.") var gradAccum = 1
    @Option(help: "Tokens per row.") var maxLength = 512
    @Flag(help: "Pack several samples per row (attention never crosses them).") var packing = false
    @Option(help: "Passes over the data (ignored with --max-steps).") var epochs = 1
    @Option(help: "Optimizer steps.") var maxSteps: Int?
    @Option(help: "Learn from completions only or all tokens: completions|all.") var trainOn = "completions"
    @Option(help: "Seed for initialisation, data order and dropout.") var seed = 0
    @Option(help: "Threads (default: all cores).") var threads: Int?
    @Flag(help: "Print events as JSON lines.") var json = false

    func run() throws {
        guard let kind = LearningRateSchedule.Kind(rawValue: schedule) else { throw ValidationError("--schedule must be constant, linear or cosine") }
        guard let targetTokens = TargetTokens(rawValue: trainOn) else { throw ValidationError("--train-on must be completions or all") }
        guard rank >= 1, batchSize >= 1, gradAccum >= 1, maxLength >= 2, lr > 0 else { throw ValidationError("--rank, --batch-size, --grad-accum must be ≥ 1, --max-length ≥ 2, --lr > 0") }
        Parallel.configure(threads: threads ?? Parallel.availableCores)
        let loaded = try ModelLoader.load(model)
        let llama = LlamaModel(weights: loaded.weights, rope: loaded.rope)
        let tokenizer = try loaded.tokenizer()
        let builder = ExampleBuilder(tokenizer: tokenizer, template: try tokenizer.chatTemplate(), targets: targetTokens)
        let log = EventLog(json: json)
        func examples(_ paths: [String]) throws -> [TrainingExample] {
            var result: [TrainingExample] = []
            for path in paths {
                for record in try TokenizeStage.records(path) {
                    do { result.append(try builder.example(TokenizeStage.trainingText(record.content))) } catch let rejection as ExampleRejection {
                        log.line("rejected", ["source": record.source.id, "reason": rejection.reason])
                    }
                }
            }
            return result
        }
        let train = try examples(data)
        var config = TrainingConfig()
        config.learningRate = lr
        config.schedule = kind
        config.warmupSteps = warmup
        config.maxSteps = maxSteps
        config.epochs = epochs
        config.microBatchSize = batchSize
        config.gradientAccumulation = gradAccum
        config.maxLength = maxLength
        config.layout = packing ? .packed : .padded
        config.optimizer = AdamW.Hyperparameters(weightDecay: weightDecay)
        config.maxGradNorm = maxGradNorm > 0 ? Float(maxGradNorm) : nil
        config.seed = UInt64(seed)
        let lora = LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, useRSLoRA: rslora,
                              targets: try LoRAConfig.modules(named: targets.split(separator: ",").map(String.init)))
        let initial = try fromAdapter.map { try PEFTAdapter.read($0, model: loaded.config) }
            ?? LoRAAdapter(config: lora, model: loaded.config, seed: UInt64(seed))
        if let fromAdapter { log.line("continuing", ["adapter": fromAdapter, "rank": initial.config.rank]) }
        let held = try evalData.map { try examples([$0]) }
        if let held { log.line("eval_loss", ["when": "before", "loss": try AdapterLoss.mean(llama, initial, held, length: maxLength)]) }
        var trainer = try Trainer(model: llama, adapter: initial, examples: train, config: config,
                                  padToken: Int32(loaded.config.eosTokenIds.first ?? 0))
        log.line("training", ["examples": train.count, "steps": trainer.totalSteps])
        try trainer.run(progress: { log.train(.step($0)) })
        if let held { log.line("eval_loss", ["when": "after", "loss": try AdapterLoss.mean(llama, trainer.adapter, held, length: maxLength)]) }
        try PEFTAdapter.write(trainer.adapter, baseModel: model, to: out)
        log.line("saved", ["adapter": out])
    }
}
