import LatheTokenizers

/// A training sample before tokenisation, in one of the shapes user data comes in.
public enum TrainingText: Sendable, Equatable {
    /// A document: every token is a target.
    case text(String)
    /// An instruction and its answer: rendered as a user turn and an assistant turn when the model has a chat
    /// template, else concatenated.
    case promptCompletion(prompt: String, completion: String)
    /// A conversation with system/user/assistant/tool turns.
    case chat([ChatMessage])
}

/// Which tokens of a sample are learned from.
public enum TargetTokens: String, Sendable, CaseIterable {
    /// Only assistant turns (and completions), plus the end-of-turn token that closes each: the model learns
    /// to answer and to stop, not to imitate the user.
    case completions
    /// Every token.
    case all
}

/// Why a sample could not become a training example; the caller records it with the sample's location.
public struct ExampleRejection: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}

/// Turns samples into token ids and target masks exactly as the model's tokenizer and chat template
/// would at serving time.
public struct ExampleBuilder {
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?
    public let targets: TargetTokens
    private let specialTexts: [String]

    public init(tokenizer: Tokenizer, template: ChatTemplate?, targets: TargetTokens) {
        self.tokenizer = tokenizer
        self.template = template
        self.targets = targets
        specialTexts = tokenizer.addedTokens.filter(\.special).map(\.content).filter { !$0.isEmpty }
    }

    /// The tokens and target mask of one sample.
    public func example(_ sample: TrainingText) throws -> TrainingExample {
        switch sample {
        case .text(let text):
            try refuseSpecialText([text])
            var ids = tokenizer.encode(text, addSpecialTokens: true)
            if let eos = tokenizer.eosTokenId, ids.last != eos { ids.append(eos) }
            return TrainingExample(tokens: ids)
        case .promptCompletion(let prompt, let completion):
            if template != nil {
                return try example(.chat([ChatMessage(role: "user", content: prompt),
                                          ChatMessage(role: "assistant", content: completion)]))
            }
            try refuseSpecialText([prompt, completion])
            let head = tokenizer.encode(prompt, addSpecialTokens: true)
            var tail = tokenizer.encode(completion)
            if let eos = tokenizer.eosTokenId { tail.append(eos) }
            let mask = Array(repeating: targets == .all, count: head.count) + Array(repeating: true, count: tail.count)
            return TrainingExample(tokens: head + tail, targetMask: mask)
        case .chat(let messages):
            guard let template else {
                throw ExampleRejection(reason: "chat records need a chat template and this tokenizer has none")
            }
            try refuseSpecialText(messages.map(\.content))
            let rendered: RenderedChat
            do { rendered = try template.render(messages, addGenerationPrompt: false) } catch {
                throw ExampleRejection(reason: "the chat template rejected the conversation: \(error)")
            }
            return try chatExample(rendered)
        }
    }

    /// User text that spells a special token would be encoded as that token once the rendered conversation is
    /// tokenised with specials allowed; such samples are refused so data can never forge turn boundaries.
    private func refuseSpecialText(_ contents: [String]) throws {
        for content in contents {
            if let special = specialTexts.first(where: { content.contains($0) }) {
                throw ExampleRejection(reason: "text contains the special token \(special); refusing rather than letting data forge turn boundaries")
            }
        }
    }

    /// Encodes the rendering piece by piece at assistant-span boundaries so each token knows whether it is
    /// inside an assistant turn. The pieces' ids must equal the whole text's (true for templates whose turns
    /// end in special tokens); otherwise the sample is refused rather than trained on different tokens.
    private func chatExample(_ rendered: RenderedChat) throws -> TrainingExample {
        let bytes = Array(rendered.text.utf8)
        let whole = tokenizer.encode(rendered.text, allowSpecial: true)
        guard targets == .completions else { return TrainingExample(tokens: whole) }
        var ids: [Int32] = [], mask: [Bool] = []
        var cursor = 0
        for span in rendered.assistantSpans.sorted(by: { $0.lowerBound < $1.lowerBound }) where span.lowerBound >= cursor {
            let before = tokenizer.encode(String(decoding: bytes[cursor..<span.lowerBound], as: UTF8.self), allowSpecial: true)
            let inside = tokenizer.encode(String(decoding: bytes[span], as: UTF8.self), allowSpecial: true)
            ids += before + inside
            mask += Array(repeating: false, count: before.count) + Array(repeating: true, count: inside.count)
            cursor = span.upperBound
            // The token that closes the turn (e.g. <|im_end|>) is learned too, so the adapter learns to stop.
            let rest = tokenizer.encode(String(decoding: bytes[cursor...], as: UTF8.self), allowSpecial: true)
            if let first = rest.first, tokenizer.isSpecial(first) {
                ids.append(first)
                mask.append(true)
                cursor += tokenizer.decode([first]).utf8.count
            }
        }
        let tail = tokenizer.encode(String(decoding: bytes[cursor...], as: UTF8.self), allowSpecial: true)
        ids += tail
        mask += Array(repeating: false, count: tail.count)
        guard ids == whole else {
            throw ExampleRejection(reason: "assistant turns do not fall on token boundaries under this template; use train_on: all")
        }
        return TrainingExample(tokens: ids, targetMask: mask)
    }
}
