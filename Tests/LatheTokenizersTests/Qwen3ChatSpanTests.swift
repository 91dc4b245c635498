import LatheJinja
import Testing
@testable import LatheTokenizers

/// The assistant spans of the Qwen3-style template, checked against transformers' renderings in chat_goldens.json.
///
/// A Qwen3 assistant turn is rendered as `<|im_start|>assistant\n` TURN `<|im_end|>`, where TURN drops the `<think>`
/// block of turns before the last user query and prints one (possibly empty) on later turns. The span of a turn is
/// TURN minus the part of the generation prompt that agrees with it: the model is given `<|im_start|>assistant\n`
/// and generates TURN; with `enable_thinking=false` it is also given `<think>\n\n</think>\n\n`.
struct Qwen3ChatSpanTests {
    static let open = "<|im_start|>assistant\n", close = "<|im_end|>"

    /// The TURN text of every complete assistant turn in a rendering, in order.
    static func turns(_ text: String) -> [String] {
        text.components(separatedBy: open).dropFirst().compactMap { rest in
            rest.range(of: close).map { String(rest[..<$0.lowerBound]) }
        }
    }

    @Test(arguments: ["qwen3_style", "qwen3_style_no_thinking"])
    func spansAreTheRenderedAnswers(_ template: String) throws {
        let g = try chatGoldens.get()
        let t = try #require(g.templates[template])
        let chat = try ChatTemplate(source: t.source, bosToken: t.bos, eosToken: t.eos)
        let prompt = g.generationPrompt(template)
        try #require(prompt.hasPrefix(Self.open))
        let tail = Array(prompt.dropFirst(Self.open.count))
        var checked = 0
        for c in g.cases where c.template == template && c.error == nil {
            let conv = try #require(g.conversations[c.conversation])
            let r = try chat.render(conv.messages, addGenerationPrompt: c.addGenerationPrompt, tools: conv.tools,
                                    extraContext: t.extra.merging(["date_string": .string(g.dateString)]) { a, _ in a })
            let expected = try #require(c.expected)
            #expect(r.text == expected)
            let assistants = conv.messages.filter { $0.role == "assistant" }
            let turns = Self.turns(expected)
            try #require(turns.count == assistants.count, "\(c)")
            let answers = zip(assistants, turns).filter { !$0.0.content.isEmpty }.map { _, turn in
                // Drop the characters of the turn that the generation prompt already gave the model.
                String(turn.dropFirst(zip(Array(turn), tail).prefix(while: { $0 == $1 }).count))
            }
            let bytes = Array(r.text.utf8)
            #expect(r.assistantSpans.map { String(decoding: bytes[$0], as: UTF8.self) } == answers, "\(c)")
            checked += answers.count
        }
        #expect(checked >= 10)
    }

    /// The earlier turn's reasoning is dropped, the last turn's kept: the mask follows exactly what was rendered.
    @Test func reasoningOfEarlierTurnsIsNotMasked() throws {
        let g = try chatGoldens.get()
        let t = try #require(g.templates["qwen3_style"])
        let conv = try #require(g.conversations["thinking"])
        let r = try ChatTemplate(source: t.source, bosToken: t.bos, eosToken: t.eos)
            .render(conv.messages, addGenerationPrompt: false)
        let bytes = Array(r.text.utf8)
        #expect(r.assistantSpans.map { String(decoding: bytes[$0], as: UTF8.self) }
                == ["3*3 is 9.", "<think>\nFour fours make sixteen.\n</think>\n\n4*4 is 16."])
        #expect(!r.text.contains("Three threes."))
    }
}
