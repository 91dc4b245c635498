import Foundation
import LatheTokenizers
@testable import LatheTraining
import Testing

/// The training mask of Qwen3-style chats, as `lathe tokenize --chat --show` prints it (ExampleBuilder's
/// completions mask), over transformers' renderings in the chat goldens. The tokenizer is SmolLM2's, whose
/// `<|im_start|>` / `<|im_end|>` are special tokens as in Qwen3's vocabulary.
@Suite struct Qwen3ChatMaskTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LatheTokenizersTests/Fixtures")

    struct Golden {
        let source: String
        let eos: String?
        /// Conversation name → messages (role, content).
        let conversations: [String: [ChatMessage]]
        /// Conversation name → rendered text (add_generation_prompt false).
        let expected: [String: String]
    }

    static func golden(_ template: String) throws -> Golden {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("chat/chat_goldens.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let t = try #require((root["templates"] as? [String: Any])?[template] as? [String: Any])
        var conversations: [String: [ChatMessage]] = [:]
        for c in try #require(root["conversations"] as? [[String: Any]]) where c["tools"] as? Bool != true {
            let messages = try #require(c["messages"] as? [[String: Any]])
            guard messages.allSatisfy({ $0["tool_calls"] == nil }) else { continue }
            conversations[try #require(c["name"] as? String)] = messages.compactMap { m in
                (m["role"] as? String).flatMap { role in (m["content"] as? String).map { ChatMessage(role: role, content: $0) } }
            }
        }
        var expected: [String: String] = [:]
        for c in try #require(root["cases"] as? [[String: Any]])
        where c["template"] as? String == template && c["add_generation_prompt"] as? Bool == false {
            if let name = c["conversation"] as? String, let text = c["expected"] as? String { expected[name] = text }
        }
        return Golden(source: try #require(t["source"] as? String), eos: t["eos_token"] as? String,
                      conversations: conversations, expected: expected)
    }

    /// The runs of consecutive learned tokens, decoded.
    static func learnedRuns(_ tokenizer: Tokenizer, _ example: TrainingExample) -> [String] {
        var runs: [[Int32]] = []
        var inRun = false
        for (id, learned) in zip(example.tokens, example.targetMask) {
            if learned { if inRun { runs[runs.count - 1].append(id) } else { runs.append([id]) } }
            inRun = learned
        }
        return runs.map { tokenizer.decode($0) }
    }

    @Test(arguments: ["thinking", "multi_turn", "single_exchange", "unicode", "whitespace", "with_system"])
    func maskedTokensAreTheAssistantAnswersAsRendered(_ conversation: String) throws {
        let g = try Self.golden("qwen3_style")
        let tokenizer = try Tokenizer.load(Self.fixtures.appendingPathComponent("tokenizers/smollm2"))
        let template = try ChatTemplate(source: g.source, bosToken: nil, eosToken: g.eos)
        let messages = try #require(g.conversations[conversation])
        let text = try #require(g.expected[conversation])
        let example = try ExampleBuilder(tokenizer: tokenizer, template: template, targets: .completions)
            .example(.chat(messages))
        #expect(tokenizer.decode(example.tokens) == text)
        #expect(example.tokens == tokenizer.encode(text, allowSpecial: true))
        // Each assistant turn of the golden text (between <|im_start|>assistant\n and <|im_end|>) with its end token.
        let turns = text.components(separatedBy: "<|im_start|>assistant\n").dropFirst().compactMap { rest in
            rest.range(of: "<|im_end|>").map { String(rest[..<$0.lowerBound]) + "<|im_end|>" }
        }
        let answered = zip(messages.filter { $0.role == "assistant" }, turns).filter { !$0.0.content.isEmpty }.map(\.1)
        #expect(!answered.isEmpty)
        #expect(Self.learnedRuns(tokenizer, example) == answered)
    }

    @Test func earlierReasoningIsNeitherRenderedNorLearned() throws {
        let g = try Self.golden("qwen3_style")
        let tokenizer = try Tokenizer.load(Self.fixtures.appendingPathComponent("tokenizers/smollm2"))
        let template = try ChatTemplate(source: g.source, bosToken: nil, eosToken: g.eos)
        let example = try ExampleBuilder(tokenizer: tokenizer, template: template, targets: .completions)
            .example(.chat(try #require(g.conversations["thinking"])))
        #expect(Self.learnedRuns(tokenizer, example)
                == ["3*3 is 9.<|im_end|>", "<think>\nFour fours make sixteen.\n</think>\n\n4*4 is 16.<|im_end|>"])
    }
}
