import Foundation
import LatheJinja
import LatheModels
import LatheTokenizers

/// A model ready to answer evaluation requests: the network, and the encoder that turns strings into tokens.
public struct EvaluationModel: Sendable {
    public let model: DecoderModel
    public let encoder: RequestEncoder
    /// A label for tables and results.json (`base`, `adapter`, a path).
    public let name: String

    /// `maxLength` defaults to the config's `max_position_embeddings`, as lm-eval `HFLM.max_length`.
    public init(model: DecoderModel, tokenizer: Tokenizer, name: String, maxLength: Int? = nil) {
        self.model = model
        self.name = name
        let prefix = model.config.bosTokenId.map(Int32.init) ?? tokenizer.bosTokenId
        encoder = RequestEncoder(tokenizer: tokenizer, maxLength: maxLength ?? model.config.maxPositionEmbeddings,
                                 prefixToken: prefix ?? tokenizer.eosTokenId ?? model.config.eosTokenIds.first.map(Int32.init))
    }
}

/// Knobs of a run; the defaults reproduce lm-eval.
public struct EvaluationOptions: Sendable {
    /// Evaluate only the first `limit` documents of each task (lm-eval `--limit N`).
    public var limit: Int?
    /// Tokens per scoring batch (rows are padded to the longest in the batch).
    public var batchTokens = 1024
    /// Run a question's shared context once and score its choices against the cached keys and values, one
    /// question at a time. Off by default: padded rows batched across questions measured faster on 2 cores
    /// (`lathe bench eval` prints both).
    public var shareContexts = false
    /// Rows of a task that begin with at least this many identical tokens — the few-shot examples of a `first_n`
    /// sampler, a description or system prompt — run those tokens once into a KV cache, when at least
    /// `sharedPrefixRows` rows share them (`DecoderModel.scoreContinuations(sharedPrefix:)`). nil: every row runs
    /// whole. Log-likelihoods agree with whole rows to fp32 rounding.
    public var sharedPrefixTokens: Int? = 16
    /// The fewest rows a shared prefix is run once for (the choices of one question alone do not qualify).
    public var sharedPrefixRows = 8
    /// lm-eval `--num_fewshot`: replaces each task's `num_fewshot`, except where the YAML sets it to 0.
    public var numFewshot: Int?
    /// Seed of the few-shot sampler's `random.Random` (lm-eval's fourth `--seed`, 1234 by default).
    public var fewshotSeed = 1234
    /// Bootstrap resamples for perplexity standard errors and comparison deltas.
    public var bootstrapIterations = 1000
    /// Seed of every bootstrap.
    public var seed: UInt64 = 1234
    /// lm-eval `--apply_chat_template`: contexts go through the model's chat template.
    public var applyChatTemplate = false
    /// lm-eval `--fewshot_as_multiturn`; nil means lm-eval's default (on with a chat template).
    public var fewshotAsMultiturn: Bool?
    /// lm-eval `--system_instruction`.
    public var systemInstruction: String?

    public init(limit: Int? = nil, numFewshot: Int? = nil) {
        self.limit = limit
        self.numFewshot = numFewshot
    }
}

extension EvaluationOptions {
    /// The context layout these options ask for on a model with `tokenizer` (lm-eval's checks: a chat template must
    /// exist, and multi-turn few-shot needs one).
    public func promptFormat(tokenizer: Tokenizer) throws -> PromptFormat {
        guard applyChatTemplate else {
            if fewshotAsMultiturn == true {
                throw EvaluationError.invalidOptions(message: "--fewshot-as-multiturn needs --apply-chat-template (as lm-eval)")
            }
            return PromptFormat(systemInstruction: systemInstruction)
        }
        let template: ChatTemplate?
        do { template = try tokenizer.chatTemplate() } catch {
            throw EvaluationError.invalidOptions(message: "--apply-chat-template: the model's chat template does not parse: \(error)")
        }
        guard let template else {
            throw EvaluationError.invalidOptions(message: "--apply-chat-template: the model has no chat template "
                                                 + "(tokenizer_config.json chat_template or GGUF tokenizer.chat_template); drop the flag")
        }
        return PromptFormat(chatTemplate: template, fewshotAsMultiturn: fewshotAsMultiturn, systemInstruction: systemInstruction)
    }
}

/// Progress of a run, for the caller to render.
public enum EvaluationEvent: Sendable {
    /// A task starts: its documents and the model requests they make.
    case taskStarted(task: String, model: String, documents: Int, requests: Int)
    /// `done` of `total` requests of the task are answered.
    case progress(task: String, done: Int, total: Int)
    /// A task is done after `seconds`.
    case taskFinished(task: String, model: String, seconds: Double)
}

/// One model answer: a log-likelihood with `is_greedy`, or generated text (lm-eval `resps`); after a filter
/// pipeline that does not end in `take_first`, the list of texts it left.
public struct Response: Sendable, Equatable {
    public var logLikelihood: Double?
    public var isGreedy: Bool?
    public var text: String?
    public var texts: [String]?

    public init(logLikelihood: Double? = nil, isGreedy: Bool? = nil, text: String? = nil, texts: [String]? = nil) {
        self.logLikelihood = logLikelihood
        self.isGreedy = isGreedy
        self.text = text
        self.texts = texts
    }
}

/// One evaluated document, as a line of lm-eval's `samples_<task>.jsonl`.
public struct SampleRecord: Sendable {
    public var docId: Int
    public var doc: TemplateValue
    /// The target as text (the gold choice for multiple choice).
    public var target: String
    /// `str(doc_to_target(doc))` as lm-eval logs it (a choice index stays a number); `target` when not set.
    public var loggedTarget: String?
    /// Each request's arguments: (context, continuation), (text) or (context, generation settings).
    public var arguments: [[String]]
    /// One response per request; for generation, the single request's responses, one per repeat.
    public var responses: [Response]
    /// Responses after each filter, by filter name (`none` when the task has no filter_list).
    public var filtered: [(filter: String, responses: [Response])]
    /// Per-sample metric values in metric order; weighted metrics carry (log-likelihood, weight).
    public var metrics: [(name: String, filter: String, values: [Double])]
}

/// Everything one task produced for one model.
public struct TaskResult: Sendable {
    public var task: TaskConfig
    public var model: String
    public var samples: [SampleRecord]
    /// Per metric and filter: the per-sample values behind the aggregate.
    public var metrics: [MetricSamples]
    /// Documents in the split before `--limit`.
    public var originalDocuments: Int
    /// Model requests answered (log-likelihood pairs, rolling windows or generations).
    public var requestCount: Int
    public var seconds: Double
    /// The few-shot examples per context this run used.
    public var numFewshot = 0
    /// How the contexts were laid out (chat template, system instruction).
    public var format = PromptFormat.plain
    /// The tokenizer facts results.json reports.
    public var modelInfo = ModelInfo()
}

/// What lm-eval's results.json records of the model's tokenizer (`add_tokenizer_info`).
public struct ModelInfo: Sendable {
    /// (text, id) of the padding, end and start tokens.
    public var padToken: (text: String, id: Int)?
    public var eosToken: (text: String, id: Int)?
    public var bosToken: (text: String, id: Int)?
    /// The context length requests are cut to.
    public var maxLength = 0

    public init() {}

    /// The facts of `model`'s encoder (padding is the end token, as HFLM sets it when the tokenizer has none).
    public init(_ model: EvaluationModel) {
        let tokenizer = model.encoder.tokenizer
        eosToken = tokenizer.eosTokenId.map { (text: tokenizer.decode([$0]), id: Int($0)) }
        bosToken = tokenizer.bosTokenId.map { (text: tokenizer.decode([$0]), id: Int($0)) }
        padToken = eosToken
        maxLength = model.encoder.maxLength
    }
}
