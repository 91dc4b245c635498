import Foundation
import LatheModels
import LatheTokenizers

/// What `lathe serve` serves: one base model with its tokenizer and chat template, and LoRA adapters by name,
/// applied per sequence (never merged into the base, so one process serves them all).
public struct ServeOptions: Sendable {
    /// The name `model` gives to reach the base (default: the model file's name).
    public var baseName: String
    /// Longest prompt + completion in tokens (at most the model's context).
    public var maxModelLength: Int
    public var limits: SchedulerLimits
    /// Largest request body in bytes.
    public var maxBodyBytes: Int
    /// Bearer token every request but `/health` must carry; nil for none (loopback only).
    public var apiKey: String?

    public init(baseName: String, maxModelLength: Int, limits: SchedulerLimits = SchedulerLimits(),
                maxBodyBytes: Int = 8 << 20, apiKey: String? = nil) {
        self.baseName = baseName
        self.maxModelLength = maxModelLength
        self.limits = limits
        self.maxBodyBytes = maxBodyBytes
        self.apiKey = apiKey
    }
}

/// The model, tokenizer, adapters and scheduler behind the routes: turns parsed requests into token jobs.
public final class ServedModel: Sendable {
    let model: DecoderModel
    let tokenizer: Tokenizer
    let template: ChatTemplate?
    let options: ServeOptions
    let adapterNames: [String]
    let metrics: ServeMetrics
    let scheduler: BatchScheduler
    /// Ids that end generation: the config's EOS ids and the tokenizer's.
    let stopTokens: Set<Int32>
    let created = Int(Date().timeIntervalSince1970)

    /// Starts the scheduler thread. `adapters` maps the names clients use to adapters of this base.
    public init(model: DecoderModel, tokenizer: Tokenizer, adapters: [String: LoRAAdapter], options: ServeOptions) throws {
        guard options.maxModelLength >= 2, options.maxModelLength <= options.limits.kvCacheTokens else {
            throw ServeError.invalid("the context (\(options.maxModelLength) tokens) must be at least 2 and fit the KV-cache budget (\(options.limits.kvCacheTokens) tokens)")
        }
        guard adapters[options.baseName] == nil else {
            throw ServeError.invalid("the adapter name \(options.baseName) is the base model's name; pick another")
        }
        for name in adapters.keys.sorted() { try Self.checkServable(adapters[name]!, name: name) }
        self.model = model
        self.tokenizer = tokenizer
        self.template = try tokenizer.chatTemplate()
        self.options = options
        self.adapterNames = adapters.keys.sorted()
        var stops = Set(model.config.eosTokenIds.map { Int32($0) })
        if let eos = tokenizer.eosTokenId { stops.insert(eos) }
        self.stopTokens = stops
        metrics = ServeMetrics(kvCacheTokens: options.limits.kvCacheTokens)
        scheduler = BatchScheduler(model: model, adapters: adapters, limits: options.limits, metrics: metrics)
    }

    /// Refuses an adapter that brings token rows (`train.new_tokens`, or trained embedding / LM-head matrices):
    /// adapters are applied per sequence over the base's embeddings, vocabulary and tokenizer, which such an adapter
    /// changes for every token (`lathe generate` and `lathe eval` merge it, with `LoadedModel.tokenizer(for:)`).
    static func checkServable(_ adapter: LoRAAdapter, name: String) throws {
        guard let rows = adapter.tokens else { return }
        let what = rows.newTokens.isEmpty
            ? "trains the whole embedding and LM-head matrices"
            : "adds \(rows.newTokens.count) token\(rows.newTokens.count == 1 ? "" : "s") to the vocabulary (\(rows.newTokens.prefix(3).joined(separator: ", "))\(rows.newTokens.count > 3 ? ", …" : ""))"
        throw ServeError.invalid("the adapter \(name) \(what); lathe serve applies adapters per request over the base model's vocabulary and embeddings, so it cannot serve it. Export it merged (lathe export --format merged) and serve that directory with --model, or use lathe generate / lathe eval --adapter, which merge it")
    }

    /// Every name `model` accepts: the base first.
    public var modelNames: [String] { [options.baseName] + adapterNames }

    /// The adapter a request's `model` names (nil: the base); a missing `model` means the base.
    func adapter(for name: String?) throws -> String? {
        guard let name, name != options.baseName else { return nil }
        guard adapterNames.contains(name) else { throw ServeError.unknownModel(name, known: modelNames) }
        return name
    }

    /// The prompt's token ids: text is encoded as the tokenizer would for the model (BOS when it adds one).
    func tokens(_ prompt: PromptInput) throws -> [Int32] {
        switch prompt {
        case .text(let text):
            return tokenizer.encode(text, addSpecialTokens: true)
        case .tokens(let ids):
            if let bad = ids.first(where: { $0 < 0 || $0 >= model.config.vocabSize }) {
                throw ServeError.invalid("token id \(bad) is outside the vocabulary (0..<\(model.config.vocabSize))", param: "prompt")
            }
            return ids.map { Int32($0) }
        }
    }

    /// The chat rendered with the model's own template, as token ids.
    func chatTokens(_ messages: [ChatMessage]) throws -> [Int32] {
        guard let template else {
            throw ServeError.invalid("this model has no chat template; use /v1/completions", param: "messages")
        }
        let text: String
        do { text = try template.renderText(messages, addGenerationPrompt: true) } catch {
            throw ServeError.invalid("the chat template rejected the messages: \(error)", param: "messages")
        }
        // The template writes the special tokens it wants (BOS, role markers) itself.
        return tokenizer.encode(text, addSpecialTokens: false, allowSpecial: true)
    }

    /// Checks a prompt and its completion fit the context and returns the completion's token budget:
    /// `requested`, or by default `defaultMax` capped by what the context leaves.
    func completionBudget(prompt: [Int32], requested: Int?, defaultMax: Int) throws -> Int {
        let limit = options.maxModelLength
        guard !prompt.isEmpty else { throw ServeError.invalid("the prompt has no tokens", param: "prompt") }
        guard prompt.count < limit || (prompt.count == limit && requested == 0) else {
            throw ServeError.invalid("This model's maximum context length is \(limit) tokens; the prompt has \(prompt.count). Shorten it.",
                                     param: "prompt")
        }
        guard let requested else { return min(defaultMax, limit - prompt.count) }
        // Compared as `requested <= limit − prompt`: a client's max_tokens may be any Int (Int.max overflowed the sum).
        guard requested <= limit - prompt.count else {
            throw ServeError.invalid("This model's maximum context length is \(limit) tokens; you asked for \(requested) completion tokens after \(prompt.count) in the prompt. Lower max_tokens to \(limit - prompt.count) or less.",
                                     param: "max_tokens")
        }
        return requested
    }

    /// Sampling settings for choice `index` of a request: greedy at temperature 0; each choice its own seed.
    func sampling(_ request: SamplingRequest, index: Int) -> SamplingParameters {
        let seed = request.seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max)
        return SamplingParameters(temperature: Float(request.temperature), topP: Float(request.topP), seed: seed &+ UInt64(index))
    }

    /// The ids that end a request's sequences: none with `ignore_eos`.
    func stopTokens(_ request: SamplingRequest) -> Set<Int32> { request.ignoreEOS ? [] : stopTokens }

    /// Stops the scheduler after every queued sequence is done (SIGTERM).
    public func drain() { scheduler.drain() }
}
