import LatheFormats
import LatheTokenizers

/// A prompt as OpenAI's completions API takes it: text, or token ids.
enum PromptInput: Sendable, Equatable {
    case text(String)
    case tokens([Int])
}

/// What both generation endpoints share.
struct SamplingRequest: Sendable {
    var model: String?
    var maxTokens: Int?
    var temperature: Double = 1
    var topP: Double = 1
    var stop: [String] = []
    var seed: Int?
    var n = 1
    var stream = false
    /// vLLM's `ignore_eos`: generate `max_tokens` whatever the model says (benchmarks).
    var ignoreEOS = false

    /// Reads the shared fields; each wrong type or out-of-range value names its field.
    init(_ body: JSONNode, maxTokensKeys: [String]) throws {
        model = try body.optionalString("model")
        for key in maxTokensKeys {
            guard let value = try body.optionalInt(key) else { continue }
            guard value >= 0 else { throw ServeError.invalid("\(key) must be 0 or more", param: key) }
            maxTokens = value
        }
        temperature = try body.optionalDouble("temperature") ?? 1
        guard temperature >= 0, temperature <= 2 else { throw ServeError.invalid("temperature must be in [0, 2]", param: "temperature") }
        topP = try body.optionalDouble("top_p") ?? 1
        guard topP > 0, topP <= 1 else { throw ServeError.invalid("top_p must be in (0, 1]", param: "top_p") }
        if let stop = try body.optional("stop") {
            self.stop = try stop.strings()
            guard self.stop.count <= 16, self.stop.allSatisfy({ !$0.isEmpty }) else {
                throw ServeError.invalid("stop takes at most 16 non-empty strings", param: "stop")
            }
        }
        seed = try body.optionalInt("seed")
        n = try body.optionalInt("n") ?? 1
        guard (1...64).contains(n) else { throw ServeError.invalid("n must be between 1 and 64", param: "n") }
        stream = try body.optionalBool("stream") ?? false
        ignoreEOS = try body.optionalBool("ignore_eos") ?? false
    }
}

/// `POST /v1/completions`.
struct CompletionRequest: Sendable {
    var sampling: SamplingRequest
    var prompts: [PromptInput]
    /// Top-k log-probabilities per token (legacy `logprobs: k`); nil for none.
    var logprobs: Int?
    var echo: Bool

    init(_ body: JSONNode) throws {
        sampling = try SamplingRequest(body, maxTokensKeys: ["max_tokens"])
        prompts = try Self.prompts(try body.required("prompt"))
        logprobs = try body.optionalInt("logprobs")
        if let k = logprobs, !(0...20).contains(k) { throw ServeError.invalid("logprobs must be between 0 and 20", param: "logprobs") }
        echo = try body.optionalBool("echo") ?? false
        if sampling.maxTokens == 0 && !echo {
            throw ServeError.invalid("max_tokens 0 asks for nothing; it is allowed only with echo", param: "max_tokens")
        }
    }

    /// A string, a list of strings, a list of token ids or a list of id lists.
    static func prompts(_ node: JSONNode) throws -> [PromptInput] {
        if let text = node.stringValue { return [.text(text)] }
        let items = try node.array()
        guard !items.isEmpty else { throw ServeError.invalid("prompt is an empty list", param: "prompt") }
        if items.allSatisfy({ $0.value.intValue != nil }) { return [.tokens(try items.map { try $0.int() })] }
        return try items.map { item in
            if let text = item.stringValue { return .text(text) }
            let ids = try item.array().map { try $0.int() }
            guard !ids.isEmpty else { throw ServeError.invalid("a token list in prompt is empty", param: ServeError.param(fromPath: item.path)) }
            return .tokens(ids)
        }
    }
}

/// `POST /v1/chat/completions`.
struct ChatRequest: Sendable {
    var sampling: SamplingRequest
    var messages: [ChatMessage]
    /// Log-probabilities of the generated tokens, with `topLogprobs` alternatives each.
    var logprobs: Bool
    var topLogprobs: Int

    init(_ body: JSONNode) throws {
        sampling = try SamplingRequest(body, maxTokensKeys: ["max_tokens", "max_completion_tokens"])
        let list = try body.required("messages").array()
        guard !list.isEmpty else { throw ServeError.invalid("messages is empty", param: "messages") }
        messages = try list.map { item in
            let role = try item.required("role").string()
            let content = try item.optional("content").map(Self.content) ?? ""
            return ChatMessage(role: role, content: content, name: try item.optionalString("name"))
        }
        logprobs = try body.optionalBool("logprobs") ?? false
        topLogprobs = try body.optionalInt("top_logprobs") ?? 0
        guard (0...20).contains(topLogprobs) else { throw ServeError.invalid("top_logprobs must be between 0 and 20", param: "top_logprobs") }
    }

    /// A message's content: a string, or a list of `{"type": "text", "text": …}` parts joined.
    static func content(_ node: JSONNode) throws -> String {
        if let text = node.stringValue { return text }
        return try node.array().map { part in
            guard try part.required("type").string() == "text" else {
                throw ServeError.invalid("only text content parts are supported", param: ServeError.param(fromPath: part.path))
            }
            return try part.required("text").string()
        }.joined()
    }
}

/// `POST /tokenize`: `{"prompt", "add_special_tokens"}` or `{"messages"}` (vLLM's shape, which lm-eval uses).
struct TokenizeRequest: Sendable {
    var prompt: String?
    var messages: [ChatMessage]?
    var addSpecialTokens: Bool

    init(_ body: JSONNode) throws {
        prompt = try body.optionalString("prompt")
        if prompt == nil {
            guard let list = try body.optional("messages")?.array() else {
                throw ServeError.invalid("tokenize needs \"prompt\" (a string) or \"messages\"", param: "prompt")
            }
            messages = try list.map {
                ChatMessage(role: try $0.required("role").string(), content: try $0.optional("content").map(ChatRequest.content) ?? "")
            }
        }
        addSpecialTokens = try body.optionalBool("add_special_tokens") ?? true
    }
}
