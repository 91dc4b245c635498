/// Why generation stopped.
public enum StopReason: String, Sendable {
    case endOfSequence = "eos", stopString = "stop string", maxTokens = "max tokens"
}

/// Greedy or sampled generation with a KV cache. Text handling stays with the caller: `decode` turns ids into
/// text so stop strings can be found, and `onToken` receives each new id as it is chosen (for streaming).
public struct Generator {
    public let model: DecoderModel
    public var parameters: SamplingParameters
    public var maxTokens: Int
    /// Tokens that end generation (defaults to the model's EOS ids).
    public var stopTokens: Set<Int32>
    public var stopStrings: [String]

    public init(model: DecoderModel, parameters: SamplingParameters = .init(), maxTokens: Int = 256,
                stopTokens: Set<Int32>? = nil, stopStrings: [String] = []) {
        self.model = model
        self.parameters = parameters
        self.maxTokens = maxTokens
        self.stopTokens = stopTokens ?? Set(model.config.eosTokenIds.map { Int32($0) })
        self.stopStrings = stopStrings
    }

    /// Generates after `prompt`; returns the new ids (without a final EOS) and why it stopped.
    public func generate(prompt: [Int32], decode: ([Int32]) -> String = { _ in "" },
                         onToken: (Int32) -> Void = { _ in }) throws -> (tokens: [Int32], reason: StopReason) {
        guard !prompt.isEmpty else { throw ModelError.invalidInput("the prompt is empty") }
        var cache = KVCache(config: model.config, capacity: prompt.count + maxTokens)
        var sampler = Sampler(parameters)
        var logits = try model.step(prompt, cache: &cache)
        var history = prompt
        var generated: [Int32] = []
        while generated.count < maxTokens {
            let token = sampler.next(logits: logits, history: history)
            if stopTokens.contains(token) { return (generated, .endOfSequence) }
            generated.append(token)
            history.append(token)
            onToken(token)
            if !stopStrings.isEmpty {
                let text = decode(generated)
                if stopStrings.contains(where: { text.contains($0) }) { return (generated, .stopString) }
            }
            if generated.count == maxTokens { break }
            logits = try model.step([token], cache: &cache)
        }
        return (generated, .maxTokens)
    }

    /// The most streams `generate(prompts:streams:)` decodes together while each stream's tokens stay the ones
    /// `generate(prompt:)` gives alone: up to this many rows, every product of a step is a decode product whose
    /// results for one row are the same bits whatever the other rows (`BoundMatrix.decodeRows`), and attention,
    /// norms and the LM head work row by row.
    public static let exactStreams = BoundMatrix.decodeRows

    /// Generates after each of `prompts`, decoding up to `streams` of them together (`DecoderModel.decodeStep`):
    /// when one stops, the next prompt takes its place. Returns what `generate(prompt:)` returns for each prompt,
    /// in order; with `streams` ≤ `exactStreams` the same tokens. A LongRoPE model whose sequences may outgrow its
    /// original context (which batched steps cannot follow) generates one prompt at a time. `onFinish` receives
    /// each prompt's index as it finishes.
    public func generate(prompts: [[Int32]], streams: Int, decode: ([Int32]) -> String = { _ in "" },
                         onFinish: (Int) -> Void = { _ in }) throws -> [(tokens: [Int32], reason: StopReason)] {
        precondition(streams >= 1, "streams must be at least 1")
        guard prompts.allSatisfy({ !$0.isEmpty }) else { throw ModelError.invalidInput("the prompt is empty") }
        var results = [(tokens: [Int32], reason: StopReason)?](repeating: nil, count: prompts.count)
        let longest = (prompts.map(\.count).max() ?? 0) + maxTokens
        if streams == 1 || (model.config.longRope.map { longest > $0.originalMaxPositionEmbeddings } ?? false) {
            for (i, prompt) in prompts.enumerated() {
                results[i] = try generate(prompt: prompt, decode: decode)
                onFinish(i)
            }
            return results.map { $0! }
        }
        /// One prompt being decoded: its cache, its own sampler, and the logits its next token is chosen from.
        struct Stream {
            let index: Int
            let cache: SequenceCache
            var sampler: Sampler
            var history: [Int32]
            var generated: [Int32] = []
            var logits: [Float]
        }
        var active = [Stream](), next = 0
        while true {
            while active.count < streams && next < prompts.count {   // admit the next prompts
                let prompt = prompts[next]
                let cache = SequenceCache(config: model.config, capacity: prompt.count + maxTokens)
                let hidden = try model.prefill(prompt, cache: cache, adapter: nil)
                active.append(Stream(index: next, cache: cache, sampler: Sampler(parameters), history: prompt,
                                     logits: model.logits(hidden: hidden, first: prompt.count - 1, rows: 1)))
                next += 1
            }
            if active.isEmpty { break }
            // Each stream chooses its token as `generate(prompt:)` does; those that stop leave the batch.
            var stepping = [Stream](), tokens = [Int32]()
            for var stream in active {
                func finish(_ reason: StopReason) {
                    results[stream.index] = (stream.generated, reason)
                    onFinish(stream.index)
                }
                if maxTokens == 0 { finish(.maxTokens); continue }
                let token = stream.sampler.next(logits: stream.logits, history: stream.history)
                if stopTokens.contains(token) { finish(.endOfSequence); continue }
                stream.generated.append(token)
                stream.history.append(token)
                if !stopStrings.isEmpty {
                    let text = decode(stream.generated)
                    if stopStrings.contains(where: { text.contains($0) }) { finish(.stopString); continue }
                }
                if stream.generated.count == maxTokens { finish(.maxTokens); continue }
                stepping.append(stream)
                tokens.append(token)
            }
            active = stepping
            guard !active.isEmpty else { continue }
            let logits = try model.decodeStep(tokens, caches: active.map(\.cache), adapter: nil)
            let v = model.config.vocabSize
            for i in active.indices { active[i].logits = Array(logits[(i * v)..<((i + 1) * v)]) }
        }
        return results.map { $0! }
    }
}
