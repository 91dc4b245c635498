import LatheCheckpoints
import LatheModels
import LatheSupport
import LatheTraining

/// The train stage on several ranks. Rank 0 runs the recipe as one process would — every stage, every write —
/// while the other ranks wait for it (`StageFollowers`): at the train stage rank 0 broadcasts a start message (the
/// trainer's state after any resume: step, LoRA parameters, AdamW moments), each rank then trains its share of
/// every step's micro-batches, and the gradient exchange keeps every rank's adapter identical.
///
/// Message: u8 kind (0: no training, 1: start), then for a start u64 completed steps, u64 optimizer step,
/// u64 parameter count n, and n × 3 little-endian f32 (parameters, first moments, second moments).
extension TrainStage {
    /// The state rank 0 resumed from, for the other ranks.
    static func startMessage(_ trainer: Trainer) -> [UInt8] {
        var bytes: [UInt8] = [StageFollowers.Kind.train.rawValue]
        for value in [trainer.completedSteps, trainer.optimizer.step, trainer.adapter.parameters.count] {
            withUnsafeBytes(of: UInt64(value).littleEndian) { bytes.append(contentsOf: $0) }
        }
        for values in [trainer.adapter.parameters, trainer.optimizer.m, trainer.optimizer.v] {
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// Decodes a start message for a trainer of `count` parameters and resumes `trainer` from it.
    static func resume(_ trainer: inout Trainer, from message: [UInt8], hyper: AdamW.Hyperparameters, rank: Int) throws {
        let count = trainer.adapter.parameterCount
        guard message.count == 25 + 12 * count else {
            throw CommunicatorError.malformed(operation: "train stage start", rank: rank,
                                              detail: "\(message.count) bytes for an adapter of \(count) parameters")
        }
        let header = message.withUnsafeBytes { raw in
            (0..<3).map { Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 1 + 8 * $0, as: UInt64.self))) }
        }
        guard header[2] == count else {
            throw CommunicatorError.malformed(operation: "train stage start", rank: rank,
                                              detail: "rank 0's adapter has \(header[2]) parameters, this rank's \(count)")
        }
        func floats(_ part: Int) -> [Float] {
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { target in
                message.withUnsafeBytes { source in
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(25 + 4 * count * part)..<(25 + 4 * count * (part + 1))]))
                }
            }
            return values
        }
        try trainer.resume(parameters: floats(0), optimizer: AdamW(hyper: hyper, m: floats(1), v: floats(2), step: header[1]),
                           completedSteps: header[0])
    }

    /// On a rank other than 0, once rank 0 announced the train stage with `message` (`StageFollowers`): trains
    /// this rank's share of every step. Reads the tokenize stage's output from the run directory, which every host
    /// must see (a shared filesystem, as for any cluster job).
    static func followTraining(_ message: [UInt8], _ loaded: LoadedRecipe, plan: StagePlan, communicator: any Communicator) throws {
        guard let tokenize = plan.stage(.tokenize), tokenize.enabled else {
            throw RecipeError.invalid(file: loaded.file, line: 0, key: "tokenize", message: "the train stage needs the tokenize stage")
        }
        let train = try TokenShard.read(tokenize.directory + "/train.tokens.zst")
        let training = try LoRATraining(modelPath: loaded.baseModelPath, baseFormat: loaded.recipe.train.baseFormat,
                                        newTokens: loaded.recipe.train.newTokens,
                                        wholeEmbeddings: loaded.recipe.train.embeddings == .full)
        let config = trainingConfig(loaded.recipe)
        var trainer = try training.trainer(train, lora: loaded.recipe.train.lora, config: config)
        try resume(&trainer, from: message, hyper: config.optimizer, rank: communicator.rank)
        try trainer.run(communicator: communicator)
    }
}
