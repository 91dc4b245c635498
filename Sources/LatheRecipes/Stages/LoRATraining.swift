import LatheData
import LatheModels
import LatheTokenizers
import LatheTraining

/// LoRA training on one base model, as the recipe's train stage and `lathe train` both run it: the model loaded
/// once, records rendered into examples through its own tokenizer and chat template, a trainer over a new or a
/// continued adapter, the held-out loss, and the adapter written as a PEFT directory that names this base.
/// Checkpointing, resuming and logging stay with the caller (the stage's run directory, the CLI's flags).
public struct LoRATraining {
    /// The base model as given (GGUF file or HF directory); recorded in the PEFT adapter.
    public let modelPath: String
    /// The loaded base: configuration, weights, tokenizer source.
    public let loaded: LoadedModel
    /// The model the trainer runs.
    public let model: DecoderModel
    /// Tokens added after the base vocabulary (`train.new_tokens`), their rows trained.
    public let newTokens: [String]
    /// Whether the whole embedding and LM head train (`train.embeddings: full`).
    public let wholeEmbeddings: Bool

    /// Loads the base model at `modelPath`, its matrices held as `baseFormat` says; `newTokens` are added to its
    /// tokenizer and vocabulary.
    public init(modelPath: String, baseFormat: BaseFormat = .auto, newTokens: [String] = [], wholeEmbeddings: Bool = false) throws {
        self.modelPath = modelPath
        loaded = try ModelLoader.load(modelPath, format: baseFormat)
        model = DecoderModel(weights: loaded.weights, rope: loaded.rope)
        self.newTokens = newTokens
        self.wholeEmbeddings = wholeEmbeddings
    }

    /// The base's tokenizer with the new tokens (ids from the model's vocabulary size on).
    public func tokenizer() throws -> Tokenizer {
        try loaded.tokenizer().adding(newTokens: newTokens, firstId: loaded.config.vocabSize)
    }

    /// Rows are padded with the first end-of-sequence token (never a target).
    public var padToken: Int32 { Int32(loaded.config.eosTokenIds.first ?? 0) }

    /// The examples of `records`, in order, with loss on `targets`; each record the chat template or the tokenizer
    /// cannot render is passed to `rejected` with the reason and left out.
    public func examples(_ records: [Record], targets: TargetTokens,
                         rejected: (Record, ExampleRejection) -> Void = { _, _ in }) throws -> [TrainingExample] {
        let tokenizer = try tokenizer()
        let builder = ExampleBuilder(tokenizer: tokenizer, template: try tokenizer.chatTemplate(), targets: targets)
        return try builder.examples(records, rejected: rejected)
    }

    /// A trainer over `examples`: a new adapter of shape `lora` initialised from `config.seed` (with the new tokens'
    /// tables), or, with `continuing`, the PEFT adapter in that directory (its own shape then replaces `lora`).
    public func trainer(_ examples: [TrainingExample], lora: LatheModels.LoRAConfig, config: TrainingConfig,
                        continuing: String? = nil) throws -> Trainer {
        let adapter = try continuing.map { try PEFTAdapter.read($0, model: loaded.config) }
            ?? LoRAAdapter(config: lora, model: model, seed: config.seed)
                .addingTokens(newTokens, wholeMatrices: wholeEmbeddings, weights: loaded.weights)
        return try Trainer(model: model, adapter: adapter, examples: examples, config: config, padToken: padToken)
    }

    /// Mean loss per target token of the model with `adapter` on held-out `examples` cut to `length` tokens;
    /// with `base`, of the model alone (`LoRAAdapter.baseline`: LoRA zero, new tokens' rows as resizing makes them).
    public func heldOutLoss(_ adapter: LoRAAdapter, _ examples: [TrainingExample], length: Int, base: Bool = false) throws -> Double {
        try AdapterLoss.mean(model, base ? try adapter.baseline(loaded.weights) : adapter, examples, length: length)
    }

    /// Writes `adapter` as a PEFT directory (adapter_config.json + adapter_model.safetensors) naming this base.
    public func save(_ adapter: LoRAAdapter, to directory: String) throws {
        try PEFTAdapter.write(adapter, baseModel: modelPath, to: directory)
    }
}

extension ExampleBuilder {
    /// The examples of `records`, in order; each one that cannot be rendered goes to `rejected` with the reason.
    func examples(_ records: [Record], rejected: (Record, ExampleRejection) -> Void) throws -> [TrainingExample] {
        var examples: [TrainingExample] = []
        for record in records {
            do { examples.append(try example(TokenizeStage.trainingText(record.content))) } catch let rejection as ExampleRejection {
                rejected(record, rejection)
            }
        }
        return examples
    }
}

extension Tokenizer {
    /// The tokenizer of the recipe's base model with `train.new_tokens` added; a token the vocabulary already has
    /// is an error naming the key.
    static func forRecipe(_ loaded: LoadedRecipe) throws -> Tokenizer {
        let tokenizer = try Tokenizer.forModel(at: loaded.baseModelPath)
        let newTokens = loaded.recipe.train.newTokens
        guard !newTokens.isEmpty else { return tokenizer }
        let (config, _, _) = try ModelLoader.planBase(loaded.baseModelPath, format: .auto)
        do { return try tokenizer.adding(newTokens: newTokens, firstId: config.vocabSize) } catch let error as NewTokenError {
            throw RecipeError.invalid(file: loaded.file, line: 0, key: "train.new_tokens", message: error.description)
        }
    }
}
