import LatheJinja

/// Finds what a chat template rendered for each assistant turn, for templates without `{% generation %}` blocks.
///
/// Templates rewrite assistant content: they `trim` it, split a `<think>` block off and drop it on earlier turns
/// (Qwen3, DeepSeek-R1), or wrap the last turn's answer in a think block of their own. So the turn is found by
/// difference, not by searching for the content:
///
/// - **Where the content shows.** Render the chat again with message k's content replaced by a private-use sentinel
///   character that no message contains. Everything before the first differing byte and after the last one is the
///   same in both renderings, so it does not depend on message k; the bytes in between are what the template made of
///   that content, however it transformed it (stripped, split, recased, cut).
/// - **Where the turn starts.** A model generates a turn after the generation prompt, so the span also starts no later
///   than where the generation prompt of `messages[..<k]` stops agreeing with the rendering (Qwen3's `<think>` the
///   model must learn to open is included; with `enable_thinking=false` the prompt already holds `<think>\n\n</think>`
///   and only what follows it is). Used only when the rendering of `messages[..<k]` is a prefix of the whole one.
///
/// The end-of-turn token after the span is left to the caller (`ExampleBuilder` learns the special token that
/// closes each span). A template that never prints the content, or prints it where it reaches another assistant
/// turn (repeated or reordered content), is reported rather than masked wrongly.
struct AssistantSpanFinder {
    /// Renders the chat as the template sees it (message dicts) with or without the generation prompt.
    let render: ([TemplateValue], Bool) throws -> String
    /// Whether the whole chat was rendered with the generation prompt (its variants are rendered the same way).
    let addGenerationPrompt: Bool

    func spans(text: String, messages: [ChatMessage]) throws -> [Range<Int>] {
        let assistants = messages.indices.filter { messages[$0].role == "assistant" && !messages[$0].content.isEmpty }
        guard !assistants.isEmpty else { return [] }
        let real = Array(text.utf8)
        let used = Set(messages.flatMap { $0.content.unicodeScalars.map(\.value) })
        guard let free = (0xE000..<0xF900).first(where: { !used.contains($0) }), let scalar = Unicode.Scalar(free) else {
            throw ChatTemplateError.assistantSpansNotFound("every private-use character occurs in the messages")
        }
        let sentinel = String(Character(scalar))
        let values = messages.map { $0.templateValue() }
        var spans: [Range<Int>] = []
        for k in assistants {
            let content = try contentSpan(real, k: k, values: values, messages: messages, sentinel: sentinel)
            var start = content.lowerBound
            if let prompt = promptEnd(real, k: k, values: values), prompt < start { start = prompt }
            if let previous = spans.last, start < previous.upperBound {
                throw ChatTemplateError.assistantSpansNotFound(
                    "what the template rendered for message \(k) overlaps an earlier assistant turn; it repeats or reorders assistant content")
            }
            spans.append(start..<content.upperBound)
        }
        return spans
    }

    /// The bytes of `real` that change when message k's content is replaced by the sentinel.
    private func contentSpan(_ real: [UInt8], k: Int, values: [TemplateValue], messages: [ChatMessage],
                             sentinel: String) throws -> Range<Int> {
        var variant = values
        variant[k] = messages[k].templateValue(content: sentinel)
        let other: [UInt8]
        do { other = Array(try render(variant, addGenerationPrompt).utf8) } catch {
            throw ChatTemplateError.assistantSpansNotFound("the template rejects message \(k) with other content: \(error)")
        }
        guard other != real else {
            throw ChatTemplateError.assistantSpansNotFound("the template does not print the content of message \(k)")
        }
        let head = Self.commonPrefix(real[...], other[...])
        let tail = Self.commonSuffix(real[head...], other[min(head, other.count)...])
        return Self.scalarStart(real, head)..<Self.scalarEnd(real, real.count - tail)
    }

    /// Where the generation prompt of `messages[..<k]` stops agreeing with `real`, when the rendering of
    /// `messages[..<k]` without it is a prefix of `real`; nil otherwise (including templates that refuse the prefix,
    /// e.g. one that must start with a user turn: the content span alone is used then).
    private func promptEnd(_ real: [UInt8], k: Int, values: [TemplateValue]) -> Int? {
        guard k > 0, let closed = try? render(Array(values[..<k]), false), let open = try? render(Array(values[..<k]), true)
        else { return nil }
        let head = Array(closed.utf8), prompt = Array(open.utf8)
        guard head.count < prompt.count, prompt.starts(with: head), real.starts(with: head) else { return nil }
        return Self.scalarStart(real, head.count + Self.commonPrefix(real[head.count...], prompt[head.count...]))
    }

    static func commonPrefix(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        zip(a, b).prefix(while: { $0 == $1 }).count
    }

    static func commonSuffix(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
        zip(a.reversed(), b.reversed()).prefix(while: { $0 == $1 }).count
    }

    /// `i` moved back to the first byte of the scalar it falls in (a shared lead byte is not a shared character).
    static func scalarStart(_ bytes: [UInt8], _ i: Int) -> Int {
        var i = i
        while i > 0, i < bytes.count, bytes[i] & 0xC0 == 0x80 { i -= 1 }
        return i
    }

    /// `i` moved forward past the continuation bytes of the scalar it falls in.
    static func scalarEnd(_ bytes: [UInt8], _ i: Int) -> Int {
        var i = i
        while i < bytes.count, bytes[i] & 0xC0 == 0x80 { i += 1 }
        return i
    }
}
