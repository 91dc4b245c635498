import LatheEvaluation
import LatheModels

/// `train.lora:` is LatheModels' `LoRAConfig`, the type `lathe train` uses too: one set of defaults.
extension LoRAConfig.Module: RecipeEnum {}

/// `train.optimizer:` AdamW (decoupled weight decay, Loshchilov & Hutter 2019), PyTorch defaults.
public struct OptimizerConfig: Codable, Sendable, Equatable {
    /// Peak learning rate. Default 2e-4.
    public var lr = 2e-4
    /// Decoupled weight decay. Default 0.
    public var weightDecay = 0.0
    /// β1, β2. Default [0.9, 0.999].
    public var betas = [0.9, 0.999]
    /// ε. Default 1e-8.
    public var eps = 1e-8

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case lr, weightDecay = "weight_decay", betas, eps
    }
}

extension BaseFormat: RecipeEnum {}

/// Learning-rate schedule after warmup (transformers `get_*_schedule_with_warmup`).
public enum ScheduleKind: String, RecipeEnum { case constant, linear, cosine }

/// `train.embeddings:` which embedding and LM-head rows train besides LoRA.
public enum EmbeddingTraining: String, RecipeEnum {
    /// The rows of `train.new_tokens` only (PEFT `trainable_token_indices`).
    case newTokens = "new_tokens"
    /// The whole embedding and LM head (PEFT `modules_to_save: [embed_tokens, lm_head]`).
    case full
}

/// `train:` section.
public struct TrainConfig: Codable, Sendable, Equatable {
    /// Adapter shape (`LoRAConfig`'s defaults: r16, α32, all seven projections).
    public var lora = LoRAConfig()
    /// Optimiser.
    public var optimizer = OptimizerConfig()
    /// Schedule after warmup. Default `cosine`.
    public var schedule = ScheduleKind.cosine
    /// Linear warmup steps from 0 to `lr`. Default 0.
    public var warmupSteps = 0
    /// Sequences per forward/backward pass (B). Default 1.
    public var microBatchSize = 1
    /// Micro-batches accumulated per optimiser step. Default 1.
    public var gradientAccumulation = 1
    /// Passes over the training split; used when `max_steps` is absent (then default 1).
    public var epochs: Int?
    /// Optimiser steps; when given, training stops there (set either this or `epochs`).
    public var maxSteps: Int?
    /// Global gradient-norm clip; 0 turns it off. Default 1.0.
    public var maxGradNorm = 1.0
    /// Checkpoint every N optimiser steps (and at the end); 0 only at the end. Default 50.
    public var saveEvery = 50
    /// Checkpoints kept besides the best. Default 3.
    public var keepLast = 3
    /// Validation loss every N steps; 0 never. Default 0.
    public var evalEvery = 0
    /// Worker threads; 0 means one per core. Default 0.
    public var threads = 0
    /// How the frozen base is held: `auto` (the file's form when quantised or 16-bit), `f32`, or quantised on load
    /// to `bf16` or `q8_0`. Default `auto`.
    public var baseFormat = BaseFormat.auto
    /// Keep only each layer's input and recompute the layer's forward inside its backward. Default false.
    public var recompute = false
    /// Special tokens added after the base vocabulary (domain tags, a tool-call marker), matched whole in the data
    /// and the chat template; their embedding and LM-head rows are trained. Default none.
    public var newTokens: [String] = []
    /// Which embedding / LM-head rows train: `new_tokens` (the added tokens' rows) or `full` (the whole matrices).
    /// Default `new_tokens`.
    public var embeddings = EmbeddingTraining.newTokens

    /// Defaults.
    public init() {}

    /// Epochs to run when `max_steps` is absent.
    public var resolvedEpochs: Int { epochs ?? 1 }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case lora, optimizer, schedule, warmupSteps = "warmup_steps", microBatchSize = "micro_batch_size"
        case gradientAccumulation = "gradient_accumulation", epochs, maxSteps = "max_steps", maxGradNorm = "max_grad_norm"
        case saveEvery = "save_every", keepLast = "keep_last", evalEvery = "eval_every", threads
        case baseFormat = "base_format", recompute, newTokens = "new_tokens", embeddings
    }
}

/// `evaluate:` section.
public struct EvaluateConfig: Codable, Sendable, Equatable {
    /// Run the stage (it also needs at least one task). Default true.
    public var enabled = true
    /// Task YAML files or directories of them, relative to the recipe file. Default none.
    public var tasks: [String] = []
    /// Also evaluate the base model and report both side by side. Default true.
    public var compareWithBase = true
    /// At most this many samples per task; absent means all.
    public var limit: Int?
    /// Few-shot examples per request, replacing each task's `num_fewshot` except where a task sets 0 (lm-eval's
    /// `--num_fewshot`); absent keeps every task's own value.
    public var numFewshot: Int?
    /// Render contexts with the base model's chat template (lm-eval `--apply_chat_template`). Default false.
    public var applyChatTemplate = false
    /// Few-shot examples as user/assistant turns (lm-eval `--fewshot_as_multiturn`); absent: on with a chat template.
    public var fewshotAsMultiturn: Bool?
    /// A system message before each task's description (lm-eval `--system_instruction`). Default none.
    public var systemInstruction: String?
    /// Run the tasks on the adapter every this many training steps and after the last (0: only in this stage).
    /// Default 0.
    public var every = 0
    /// `TASK/METRIC` or `TASK/METRIC,FILTER` whose best value picks the adapter the train stage writes (and export
    /// exports); needs `every`. Default none: the last step's adapter.
    public var select: String?
    /// Whether a higher or a lower `select` value is better. Default: lm-eval's `higher_is_better` of the metric.
    public var better: Better?
    /// Stop training after this many task evaluations without a better `select` value. Default none.
    public var patience: Int?

    /// Which direction of `evaluate.select` is better.
    public enum Better: String, RecipeEnum { case higher, lower }

    /// Defaults.
    public init() {}

    /// The evaluation options these settings ask for.
    public var options: EvaluationOptions {
        var options = EvaluationOptions(limit: limit, numFewshot: numFewshot)
        options.applyChatTemplate = applyChatTemplate
        options.fewshotAsMultiturn = fewshotAsMultiturn
        options.systemInstruction = systemInstruction
        return options
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, tasks, compareWithBase = "compare_with_base", limit, numFewshot = "num_fewshot"
        case applyChatTemplate = "apply_chat_template", fewshotAsMultiturn = "fewshot_as_multiturn"
        case systemInstruction = "system_instruction", every, select, better, patience
    }
}

extension ExportFormat: RecipeEnum {}
extension ExportDType: RecipeEnum {}

/// `export:` section.
public struct ExportConfig: Codable, Sendable, Equatable {
    /// Artefacts to write; empty skips the stage. Default `peft`.
    public var formats: [ExportFormat] = [.peft]
    /// Storage type of merged weights (f32, f16, bf16; q8_0 for the merged GGUF only). Default `f32`.
    public var dtype = ExportDType.f32
    /// The base model's Hugging Face id, recorded as `base_model_name_or_path` in the PEFT adapter so that
    /// transformers and vLLM find the base (e.g. `HuggingFaceTB/SmolLM2-135M-Instruct`). Default: the base's path.
    public var baseModelID: String?

    /// Defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case formats, dtype, baseModelID = "base_model_id" }
}

