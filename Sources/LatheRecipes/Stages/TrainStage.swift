import Foundation
import LatheCheckpoints
import LatheEvaluation
import LatheFormats
import LatheModels
import LatheSupport
import LatheTensors
import LatheTraining

/// The recipe's train stage: LoRA on the base model over the tokenize stage's examples. Checkpoints go to
/// `<run>/checkpoints/<stage key>/` (outside the stage's temporary directory, so a killed run resumes from
/// the newest valid one); the finished adapter is written as a PEFT directory `adapter/` with
/// `training_log.jsonl` (one line per step, one per held-out evaluation, one per task evaluation) beside it. With
/// `evaluate.every` the recipe's tasks run on the adapter during training; with `evaluate.select` the adapter of the
/// best step is written as `adapter/` (the last one as `last-adapter/`), and `patience` may stop training early.
public struct TrainStage: StageExecutor {
    public enum Event: Sendable {
        case resumed(step: Int, problems: [String])
        case step(TrainingProgress)
        case checkpoint(step: Int, path: String)
        /// Held-out loss of the adapter after `step` (every `train.eval_every` steps and at the end).
        case evaluated(step: Int, loss: Double)
        /// The recipe's tasks on the adapter after `step` (`evaluate.every`): `task/metric,filter` → value, and the
        /// `evaluate.select` value with the best step so far.
        case tasksEvaluated(step: Int, metrics: [String: Double], selected: Double?, bestStep: Int?)
        /// A task evaluation's progress.
        case evaluation(EvaluationEvent)
    }

    public var onEvent: (Event) -> Void
    /// The job's ranks: rank 0 runs this stage and writes; the others train beside it (`StageFollowers`).
    public let communicator: any Communicator

    public init(communicator: any Communicator = SingleProcess(), onEvent: @escaping (Event) -> Void = { _ in }) {
        self.communicator = communicator
        self.onEvent = onEvent
    }

    public func run(_ context: StageContext) throws -> StageReport {
        let recipe = context.loaded.recipe
        guard let tokenized = context.upstream[.tokenize] else {
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "tokenize", message: "the train stage needs the tokenize stage")
        }
        if communicator.size > 1, recipe.evaluate.patience != nil {
            // Early stopping is decided on rank 0 between steps; the other ranks would wait in the gradient exchange.
            throw RecipeError.invalid(file: context.loaded.file, line: 0, key: "evaluate.patience",
                                      message: "early stopping is not supported with \(communicator.size) ranks yet; remove evaluate.patience or run one process")
        }
        let train = try TokenShard.read((tokenized as NSString).appendingPathComponent("train.tokens.zst"))
        let training = try LoRATraining(modelPath: context.loaded.baseModelPath, baseFormat: recipe.train.baseFormat,
                                        newTokens: recipe.train.newTokens, wholeEmbeddings: recipe.train.embeddings == .full)
        let config = Self.trainingConfig(recipe)
        var trainer = try training.trainer(train, lora: recipe.train.lora, config: config)
        let store = CheckpointStore(directory: (context.loaded.runDirectory as NSString)
            .appendingPathComponent("checkpoints/\(context.planned.key.prefix(16))"), keepLast: max(1, recipe.train.keepLast))
        try DurableFile.makeDirectories(store.directory)
        let latest = store.latestValid()
        // The log so far lives beside the checkpoints, so that a resumed run's training_log.jsonl is whole.
        let logPath = (store.directory as NSString).appendingPathComponent("training_log.jsonl")
        var log = ""
        if let checkpoint = latest.checkpoint, let step = checkpoint.step {
            log = Self.logLines(logPath, through: step)
            let state = try Self.state(checkpoint, adapter: trainer.adapter, hyper: config.optimizer, step: step)
            try trainer.resume(parameters: state.parameters, optimizer: state.optimizer, completedSteps: step)
            onEvent(.resumed(step: step, problems: latest.problems.map(\.description)))
        }
        if communicator.size > 1 { _ = try communicator.broadcast(Self.startMessage(trainer)) }
        let evalShard = (tokenized as NSString).appendingPathComponent("eval.tokens.zst")
        let held = FileManager.default.fileExists(atPath: evalShard) ? try TokenShard.read(evalShard) : []
        let length = recipe.tokenize.maxLength
        var finalEvalLoss: Double?
        let recipeHash = (try? context.loaded.sha256()) ?? ""
        var selection = try TrainingSelection(context.loaded, directory: store.directory, log: log)
        var stoppedEarly = false
        do { try trainer.run(saveEvery: recipe.train.saveEvery, communicator: communicator, checkpoint: { trainer in
            // The log first: killed between the two, the resumed run drops the lines after the older checkpoint.
            try DurableFile.write(Array(log.utf8), to: logPath)
            let checkpoint = Self.checkpoint(trainer, recipeHash: recipeHash, seed: recipe.seed)
            let path = try store.save(checkpoint, step: trainer.completedSteps)
            onEvent(.checkpoint(step: trainer.completedSteps, path: path))
        }, progress: { progress in
            log += "{\"step\": \(progress.step), \"loss\": \(progress.loss), \"lr\": \(progress.learningRate), \"grad_norm\": \(progress.gradientNorm), \"tokens\": \(progress.tokens), \"seconds\": \(progress.seconds)}\n"
            onEvent(.step(progress))
        }, afterStep: { trainer in
            let step = trainer.completedSteps, last = step == trainer.totalSteps, every = recipe.train.evalEvery
            if !held.isEmpty, every > 0, step % every == 0 || last {
                let loss = try training.heldOutLoss(trainer.adapter, held, length: length)
                if last { finalEvalLoss = loss }
                log += "{\"step\": \(step), \"eval_loss\": \(loss)}\n"
                onEvent(.evaluated(step: step, loss: loss))
            }
            guard var current = selection, current.isDue(step: step, last: last) else { return }
            let outcome = try current.evaluate(training, trainer.adapter, step: step) { onEvent(.evaluation($0)) }
            selection = current
            log += outcome.line
            onEvent(.tasksEvaluated(step: step, metrics: outcome.metrics, selected: current.selectedKey.flatMap { outcome.metrics[$0] },
                                    bestStep: current.best?.step))
            if outcome.stop { throw TrainingSelection.EarlyStop() }
        }) } catch is TrainingSelection.EarlyStop { stoppedEarly = true }
        let adapterDirectory = (context.outputDirectory as NSString).appendingPathComponent("adapter")
        var metrics: [String: Double] = [:]
        if let selection, selection.selectedKey != nil, let best = selection.best {
            // The best step's adapter is what export and evaluate see; the last one stays beside it.
            try training.save(trainer.adapter, to: (context.outputDirectory as NSString).appendingPathComponent("last-adapter"))
            try FileManager.default.copyItem(atPath: selection.bestDirectory, toPath: adapterDirectory)
            metrics["selected_step"] = Double(best.step)
            metrics["selected_value"] = best.value
        } else {
            try training.save(trainer.adapter, to: adapterDirectory)
        }
        if stoppedEarly { metrics["stopped_at_step"] = Double(trainer.completedSteps) }
        try Data(log.utf8).write(to: URL(fileURLWithPath: context.outputDirectory).appendingPathComponent("training_log.jsonl"))
        if !held.isEmpty {
            metrics["eval_loss_base"] = try training.heldOutLoss(trainer.adapter, held, length: length, base: true)
            metrics["eval_loss_adapter"] = try finalEvalLoss ?? training.heldOutLoss(trainer.adapter, held, length: length)
        }
        return StageReport(counts: ["steps": trainer.completedSteps, "examples": train.count], metrics: metrics)
    }

    /// The lines of the log at `path` for steps up to `step` (a resumed run redoes the steps after it).
    static func logLines(_ path: String, through step: Int) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").filter { line in
            guard let logged = (try? JSONValue.parse(Array(line.utf8)))?["step"]?.intValue else { return false }
            return logged <= step
        }.map { $0 + "\n" }.joined()
    }

    static func trainingConfig(_ recipe: Recipe) -> TrainingConfig {
        let t = recipe.train
        var config = TrainingConfig()
        config.learningRate = t.optimizer.lr
        config.schedule = LearningRateSchedule.Kind(rawValue: t.schedule.rawValue) ?? .cosine
        config.warmupSteps = t.warmupSteps
        config.maxSteps = t.maxSteps
        config.epochs = t.epochs ?? 1
        config.microBatchSize = t.microBatchSize
        config.gradientAccumulation = t.gradientAccumulation
        config.maxLength = recipe.tokenize.maxLength
        config.layout = recipe.tokenize.packing ? .packed : .padded
        config.optimizer = AdamW.Hyperparameters(beta1: t.optimizer.betas.first ?? 0.9, beta2: t.optimizer.betas.last ?? 0.999,
                                                 epsilon: t.optimizer.eps, weightDecay: t.optimizer.weightDecay)
        config.maxGradNorm = t.maxGradNorm > 0 ? Float(t.maxGradNorm) : nil
        config.seed = UInt64(recipe.seed)
        config.recompute = t.recompute
        return config
    }

    /// The trainer's state as a checkpoint: every LoRA matrix under its PEFT name with its AdamW moments
    /// (`<name>.exp_avg`, `<name>.exp_avg_sq`), and the step, data cursor and seeds in the metadata.
    static func checkpoint(_ trainer: Trainer, recipeHash: String, seed: Int) -> TrainingCheckpoint {
        var tensors: [String: CheckpointTensor] = [:]
        for (name, shape, range) in matrices(trainer.adapter) {
            tensors[name] = CheckpointTensor(shape: shape, values: Array(trainer.adapter.parameters[range]))
            tensors[name + ".exp_avg"] = CheckpointTensor(shape: shape, values: Array(trainer.optimizer.m[range]))
            tensors[name + ".exp_avg_sq"] = CheckpointTensor(shape: shape, values: Array(trainer.optimizer.v[range]))
        }
        return TrainingCheckpoint(tensors: tensors, metadata: [
            TrainingCheckpoint.Key.schedulerStep: "\(trainer.completedSteps)",
            TrainingCheckpoint.Key.rngCounter: "\(trainer.completedSteps)",
            TrainingCheckpoint.Key.dataEpoch: "\(trainer.dataEpoch)",
            TrainingCheckpoint.Key.dataPosition: "\(trainer.completedSteps * trainer.config.gradientAccumulation)",
            TrainingCheckpoint.Key.shuffleSeed: "\(seed)",
            TrainingCheckpoint.Key.recipeSHA256: recipeHash,
            "optimizer_step": "\(trainer.optimizer.step)",
        ])
    }

    /// Each adapter tensor (A, B and a DoRA magnitude): PEFT name, shape, and its range in the flat parameter buffer;
    /// then the token tables (`train.new_tokens`) under their PEFT names (a tied table once, as the embedding's).
    static func matrices(_ adapter: LoRAAdapter) -> [(String, [Int], Range<Int>)] {
        var result = adapter.layout.tensors.map { ($0.name, $0.shape, $0.range) }
        if let tokens = adapter.tokens {
            for (name, offset) in tokens.peftTensors.prefix(tokens.tied ? 1 : 2) {
                result.append((name, [tokens.rowCount, tokens.hidden], offset..<(offset + tokens.rowCount * tokens.hidden)))
            }
        }
        return result
    }

    static func state(_ checkpoint: TrainingCheckpoint, adapter: LoRAAdapter, hyper: AdamW.Hyperparameters,
                      step: Int) throws -> (parameters: [Float], optimizer: AdamW) {
        let count = adapter.parameterCount
        var p = [Float](repeating: 0, count: count), m = p, v = p
        let mismatch = ModelError.invalidInput("checkpoint of step \(step) does not hold this run's LoRA state; delete its checkpoints folder")
        for (name, shape, range) in matrices(adapter) {
            for (suffix, target) in [("", 0), (".exp_avg", 1), (".exp_avg_sq", 2)] {
                guard let tensor = checkpoint.tensors[name + suffix], tensor.shape == shape, tensor.values.count == range.count else { throw mismatch }
                switch target {
                case 0: p.replaceSubrange(range, with: tensor.values)
                case 1: m.replaceSubrange(range, with: tensor.values)
                default: v.replaceSubrange(range, with: tensor.values)
                }
            }
        }
        guard let optimizerStep = checkpoint.metadata["optimizer_step"].flatMap({ Int($0) }) else { throw mismatch }
        return (p, AdamW(hyper: hyper, m: m, v: v, step: optimizerStep))
    }
}
