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
        // Tokens a recipe adds (`AddedToken.alwaysMatched`) are meant to be spelled by the data; the base's are not.
        specialTexts = tokenizer.addedTokens.filter { $0.special && !$0.alwaysMatched }.map(\.content).filter { !$0.isEmpty }
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

    /// The rendering's tokens (encoded whole, as generation sees it) with the assistant turns learned: a token is
    /// learned when its text overlaps an assistant span (transformers' `char_to_token` rule for
    /// `return_assistant_tokens_mask`), and so is a special token right after a span (e.g. <|im_end|>), so the
    /// adapter learns to stop. Token offsets come from decoding the ids one by one; a tokenizer whose decoding does
    /// not give back the rendered text falls back to encoding piece by piece at the span boundaries, refusing the
    /// sample when those pieces' ids differ from the whole text's.
    private func chatExample(_ rendered: RenderedChat) throws -> TrainingExample {
        let whole = tokenizer.encode(rendered.text, allowSpecial: true)
        guard targets == .completions else { return TrainingExample(tokens: whole) }
        let spans = rendered.assistantSpans.sorted { $0.lowerBound < $1.lowerBound }
        guard let ranges = tokenRanges(whole, text: rendered.text) else { return try piecewiseExample(rendered, whole) }
        var mask = [Bool](repeating: false, count: whole.count)
        var next = 0   // first span not yet behind the tokens
        for (i, range) in ranges.enumerated() {
            while next < spans.count && spans[next].upperBound <= range.lowerBound {
                // The first token after a turn closes it when it is special: learned.
                if spans[next].upperBound == range.lowerBound && tokenizer.isSpecial(whole[i]) { mask[i] = true }
                next += 1
            }
            if next < spans.count && range.overlaps(spans[next]) { mask[i] = true }
        }
        return TrainingExample(tokens: whole, targetMask: mask)
    }

    /// Byte range of each token's text in `text`, by decoding the ids one at a time (a token ending inside a
    /// multi-byte character shares the range of the token that completes it); nil when the decoded text is not
    /// `text` (a lossy normalizer or decoder).
    private func tokenRanges(_ ids: [Int32], text: String) -> [Range<Int>]? {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var ranges: [Range<Int>] = []
        var decoded: [UInt8] = []
        var pending = 0   // tokens whose text is held back until a later token completes it
        for id in ids {
            let piece = decoder.push(id).utf8
            pending += 1
            guard !piece.isEmpty else { continue }
            let range = decoded.count..<(decoded.count + piece.count)
            ranges += Array(repeating: range, count: pending)
            decoded += piece
            pending = 0
        }
        let rest = decoder.finish().utf8
        if pending > 0 { ranges += Array(repeating: decoded.count..<(decoded.count + rest.count), count: pending) }
        decoded += rest
        return decoded == Array(text.utf8) ? ranges : nil
    }

    /// Encodes the rendering piece by piece at assistant-span boundaries; refuses the sample when the pieces'
    /// ids differ from the whole text's `whole`.
    private func piecewiseExample(_ rendered: RenderedChat, _ whole: [Int32]) throws -> TrainingExample {
        let bytes = Array(rendered.text.utf8)
        var ids: [Int32] = [], mask: [Bool] = []
        var cursor = 0
        for span in rendered.assistantSpans.sorted(by: { $0.lowerBound < $1.lowerBound }) where span.lowerBound >= cursor {
            let before = tokenizer.encode(String(decoding: bytes[cursor..<span.lowerBound], as: UTF8.self), allowSpecial: true)
            let inside = tokenizer.encode(String(decoding: bytes[span], as: UTF8.self), allowSpecial: true)
            ids += before + inside
            mask += Array(repeating: false, count: before.count) + Array(repeating: true, count: inside.count)
            cursor = span.upperBound
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
