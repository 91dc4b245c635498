import ArgumentParser
import Foundation
import LatheData
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
    @Option(name: .customLong("from-adapter"), help: "Continue training this PEFT adapter (its rank, alpha, targets, rsLoRA and DoRA settings replace --rank, --alpha, --targets, --rslora, --dora).")
    var fromAdapter: String?
    @Option(help: "LoRA rank.") var rank = LoRAConfig().rank
    @Option(help: "LoRA alpha.") var alpha = LoRAConfig().alpha
    @Option(help: "LoRA dropout.") var dropout = LoRAConfig().dropout
    @Flag(help: "rsLoRA scaling (alpha/sqrt(rank)).") var rslora = false
    @Flag(help: "DoRA (PEFT use_dora): a trained magnitude per output row of each adapted projection.") var dora = false
    @Option(help: "Projections to adapt, comma-separated, or all-linear.") var targets = LoRATargets.defaults
    @Option(help: "Learning rate.") var lr = 2e-4
    @Option(help: "Learning-rate schedule after the warm-up.") var schedule = LearningRateSchedule.Kind.cosine
    @Option(help: "Warm-up steps.") var warmup = 0
    @Option(help: "AdamW weight decay.") var weightDecay = 0.0
    @Option(help: "Global gradient-norm clip (0: off).") var maxGradNorm = 1.0
    @Option(help: "Rows per micro-batch.") var batchSize = 4
    @Option(help: "Micro-batches per optimizer step.") var gradAccum = 1
    @Option(help: "Tokens per row.") var maxLength = 512
    @Flag(help: "Pack several samples per row (attention never crosses them).") var packing = false
    @Option(help: "Passes over the data (ignored with --max-steps).") var epochs = 1
    @Option(help: "Optimizer steps.") var maxSteps: Int?
    @Option(help: "Learn from completions only or from all tokens.") var trainOn = TargetTokens.completions
    @Option(help: "Seed for initialisation, data order and dropout.") var seed = 0
    @OptionGroup var threads: ThreadOptions
    @OptionGroup var base: BaseFormatOption
    @Flag(help: "Keep only each layer's input and recompute the layer inside its backward (less memory, ~1/3 more compute).")
    var recompute = false
    @Flag(help: "Print events as JSON lines.") var json = false

    func validate() throws {
        guard rank >= 1, batchSize >= 1, gradAccum >= 1, maxLength >= 2, lr > 0 else {
            throw ValidationError("--rank, --batch-size, --grad-accum must be ≥ 1, --max-length ≥ 2, --lr > 0")
        }
        guard epochs >= 1, warmup >= 0, seed >= 0, (maxSteps ?? 1) >= 1 else {
            throw ValidationError("--epochs and --max-steps must be ≥ 1, --warmup and --seed ≥ 0")
        }
    }

    func run() throws {
        try runAsJob { try train($0) }
    }

    /// Trains as one rank of `communicator`: every rank checks it reads rank 0's files, trains its share of each
    /// step, and rank 0 alone prints and writes the adapter.
    func train(_ communicator: any Communicator) throws {
        Parallel.configure(threads: threads.threads ?? communicator.defaultThreads)
        let hasher = FileHasher()
        let inputs = try ([model] + data + [evalData, fromAdapter].compactMap { $0 }).map { "\($0)=\(try hasher.hash($0))" }
        try communicator.requireSameFingerprint((CommandLine.arguments.dropFirst() + inputs).joined(separator: "\u{0}"),
                                                what: "arguments and input hashes")
        let plan = try TrainingPlan.forModel(model, format: base.format, lora: LoRAConfig(rank: rank, alpha: alpha),
                                             batch: batchSize, length: maxLength, accumulation: gradAccum,
                                             steps: maxSteps ?? 0, recompute: recompute, gflops: SgemmRate.measure(m: 256, n: 256, k: 576, repeats: 1, seconds: 0))
        if let available = TrainingPlan.availableBytes() { try plan.checkFits(available: available, flags: true) }
        let training = try LoRATraining(modelPath: model, baseFormat: base.format)
        let log = EventLog(json: json, enabled: communicator.isLeader)
        func examples(_ paths: [String]) throws -> [TrainingExample] {
            try paths.flatMap { path in
                try training.examples(try RecordSources.records(path), targets: trainOn) { record, rejection in
                    log.line("rejected", ["source": record.source.id, "reason": rejection.reason])
                }
            }
        }
        let train = try examples(data)
        var config = TrainingConfig()
        config.learningRate = lr
        config.schedule = schedule
        config.warmupSteps = warmup
        config.maxSteps = maxSteps
        config.epochs = epochs
        config.microBatchSize = batchSize
        config.gradientAccumulation = gradAccum
        config.maxLength = maxLength
        config.layout = packing ? .packed : .padded
        config.recompute = recompute
        config.optimizer = AdamW.Hyperparameters(weightDecay: weightDecay)
        config.maxGradNorm = maxGradNorm > 0 ? Float(maxGradNorm) : nil
        config.seed = UInt64(seed)
        let lora = LoRAConfig(rank: rank, alpha: alpha, dropout: dropout, useRSLoRA: rslora, targets: targets.modules,
                              useDoRA: dora)
        var trainer = try training.trainer(train, lora: lora, config: config, continuing: fromAdapter)
        if let fromAdapter { log.line("continuing", ["adapter": fromAdapter, "rank": trainer.adapter.config.rank]) }
        let held = communicator.isLeader ? try evalData.map { try examples([$0]) } : nil
        if let held { log.line("eval_loss", ["when": "before", "loss": try training.heldOutLoss(trainer.adapter, held, length: maxLength)]) }
        log.line("training", ["examples": train.count, "steps": trainer.totalSteps])
        try trainer.run(communicator: communicator, progress: { log.train(.step($0)) })
        guard communicator.isLeader else { return }
        if let held { log.line("eval_loss", ["when": "after", "loss": try training.heldOutLoss(trainer.adapter, held, length: maxLength)]) }
        try training.save(trainer.adapter, to: out)
        log.line("saved", ["adapter": out])
    }
}
