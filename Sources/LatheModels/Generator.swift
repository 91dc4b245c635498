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
}
