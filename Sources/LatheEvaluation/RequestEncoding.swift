import LatheSupport
import LatheTokenizers

/// Turns request strings into token ids exactly as lm-eval 0.4 `HFLM` does for a causal model.
public struct RequestEncoder: Sendable {
    public let tokenizer: Tokenizer
    /// The model's context length (`HFLM.max_length`: `max_position_embeddings` for Llama-family configs).
    public let maxLength: Int
    /// The token that conditions an empty context and the first rolling window (`HFLM.prefix_token_id`: BOS,
    /// else EOS).
    public let prefixToken: Int32

    public init(tokenizer: Tokenizer, maxLength: Int, prefixToken: Int32? = nil) {
        self.tokenizer = tokenizer
        self.maxLength = maxLength
        self.prefixToken = prefixToken ?? tokenizer.bosTokenId ?? tokenizer.eosTokenId ?? 0
    }

    /// `HFLM.tok_encode`: the tokenizer's default special tokens (its post-processor), none when the text already
    /// starts with the BOS text; special-token text is matched, as HF tokenizers do.
    public func encode(_ text: String) -> [Int32] {
        let bosText = tokenizer.decode([prefixToken])
        let addSpecial = bosText.isEmpty || !text.hasPrefix(bosText)
        return tokenizer.encode(text, addSpecialTokens: addSpecial, allowSpecial: true)
    }

    /// `TemplateLM._encode_pair` (plus the empty-context case of `loglikelihood`): trailing whitespace of the
    /// context moves to the continuation, the whole string is encoded, and the continuation is what follows the
    /// context's own encoding.
    public func encodePair(context: String, continuation: String) -> (context: [Int32], continuation: [Int32]) {
        encodePairs(context: context, continuations: [continuation])[0]
    }

    /// The context without its trailing whitespace, and that whitespace (which moves to the continuation).
    private func splitTrailingWhitespace(_ context: String) -> (String, String) {
        let trimmed = context.pythonRstripped()
        let kept = trimmed.unicodeScalars.count
        guard kept < context.unicodeScalars.count else { return (context, "") }
        return (trimmed, String(String.UnicodeScalarView(context.unicodeScalars.dropFirst(kept))))
    }

    /// `encodePair` for every (context, continuations) request group, the groups encoded in parallel and each
    /// context once for all its continuations (its encoding is the same for each).
    public func encodePairs(_ groups: [(context: String, continuations: [String])]) -> [[(context: [Int32], continuation: [Int32])]] {
        var encoded = [[(context: [Int32], continuation: [Int32])]](repeating: [], count: groups.count)
        encoded.withUnsafeMutableBufferPointer { out in
            let shared = UncheckedSendable(out)
            Parallel.forEachChunk(groups.count, minimumChunk: 8) { range in
                for g in range { shared.value[g] = encodePairs(context: groups[g].context, continuations: groups[g].continuations) }
            }
        }
        return encoded
    }

    /// `encodePair(context:continuation:)` for each continuation of one context, the context encoded once.
    func encodePairs(context: String, continuations: [String]) -> [(context: [Int32], continuation: [Int32])] {
        if context.isEmpty { return continuations.map { ([prefixToken], encode($0)) } }
        let (trimmed, moved) = splitTrailingWhitespace(context)
        let contextTokens = encode(trimmed)
        return continuations.map { continuation in
            let whole = encode(trimmed + moved + continuation)
            return (contextTokens, Array(whole.dropFirst(min(contextTokens.count, whole.count))))
        }
    }

    /// `get_rolling_token_windows(tokens, prefix, max_length, context_len=1)` then `make_disjoint_window`:
    /// disjoint (context, continuation) windows that together predict every token of `text` once.
    public func rollingWindows(_ text: String) -> [(context: [Int32], continuation: [Int32])] {
        Self.rollingWindows(encode(text), prefix: prefixToken, maxLength: maxLength)
    }

    /// The windows for a token list (see `rollingWindows(_:)`).
    public static func rollingWindows(_ tokens: [Int32], prefix: Int32, maxLength: Int) -> [(context: [Int32], continuation: [Int32])] {
        guard !tokens.isEmpty else { return [] }
        var windows = [(context: [Int32], continuation: [Int32])]()
        func disjoint(_ input: [Int32], _ predicted: [Int32]) {
            windows.append((Array(input.prefix(input.count - (predicted.count - 1))), predicted))
        }
        let firstLength = min(maxLength, tokens.count)
        disjoint([prefix] + tokens.prefix(firstLength - 1), Array(tokens.prefix(firstLength)))
        var predicted = firstLength
        while predicted < tokens.count {
            let length = min(tokens.count - predicted, maxLength)     // pred_len = max_len - context_len + 1
            let end = predicted + length
            disjoint(Array(tokens[max(0, end - maxLength - 1)..<(end - 1)]), Array(tokens[(end - length)..<end]))
            predicted += length
        }
        return windows
    }
}

extension String {
    /// Python `str.rstrip()` with no argument: trailing Unicode whitespace removed.
    func pythonRstripped() -> String {
        var scalars = Substring(self).unicodeScalars
        while let last = scalars.last, last.properties.isWhitespace || (0x1C...0x1F).contains(last.value) {
            scalars.removeLast()
        }
        return String(scalars)
    }
}
