import Foundation
import LatheJinja
import LatheModels
import LatheTokenizers

/// A model ready to answer evaluation requests: the network, and the encoder that turns strings into tokens.
public struct EvaluationModel: Sendable {
    public let model: LlamaModel
    public let encoder: RequestEncoder
    /// A label for tables and results.json (`base`, `adapter`, a path).
    public let name: String

    /// `maxLength` defaults to the config's `max_position_embeddings`, as lm-eval `HFLM.max_length`.
    public init(model: LlamaModel, tokenizer: Tokenizer, name: String, maxLength: Int? = nil) {
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
    /// lm-eval `--num_fewshot`: replaces each task's `num_fewshot`, except where the YAML sets it to 0.
    public var numFewshot: Int?
    /// Seed of the few-shot sampler's `random.Random` (lm-eval's fourth `--seed`, 1234 by default).
    public var fewshotSeed = 1234
    /// Bootstrap resamples for perplexity standard errors and comparison deltas.
    public var bootstrapIterations = 1000
    /// Seed of every bootstrap.
    public var seed: UInt64 = 1234

    public init(limit: Int? = nil, numFewshot: Int? = nil) {
        self.limit = limit
        self.numFewshot = numFewshot
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

/// One model answer: a log-likelihood with `is_greedy`, or generated text (lm-eval `resps`).
public struct Response: Sendable, Equatable {
    public var logLikelihood: Double?
    public var isGreedy: Bool?
    public var text: String?
}

/// One evaluated document, as a line of lm-eval's `samples_<task>.jsonl`.
public struct SampleRecord: Sendable {
    public var docId: Int
    public var doc: TemplateValue
    /// The target as text (the gold choice for multiple choice).
    public var target: String
    /// Each request's arguments: (context, continuation), (text) or (context, generation settings).
    public var arguments: [[String]]
    public var responses: [Response]
    /// Responses after each filter, by filter name (`none` when the task has no filter_list).
    public var filtered: [(filter: String, responses: [Response])]
    /// Per-sample metric values in metric order; weighted metrics carry (log-likelihood, weight).
    public var metrics: [(name: String, values: [Double])]
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
}
