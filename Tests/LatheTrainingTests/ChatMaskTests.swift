import Foundation
import LatheTokenizers
@testable import LatheTraining
import Testing

/// The training mask of each issue-14 architecture's chat template, as `lathe tokenize --chat --show` prints it
/// (ExampleBuilder's completions mask), over transformers' renderings in the chat goldens (Scripts/goldens/
/// chat_templates.py): Qwen3 (with <think>), Gemma 3 (<start_of_turn>model), Phi-3 (<|assistant|>), Llama 3.2
/// (the Llama 3.1 template) and Mistral ([INST]). The tokenizer is SmolLM2's, whose `<|im_start|>` / `<|im_end|>`
/// are special tokens as in Qwen3's vocabulary, with each other template's control tokens added as special tokens
/// (as in that model's vocabulary).
@Suite struct ChatMaskTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LatheTokenizersTests/Fixtures")

    struct Golden {
        let source: String
        let bos: String?
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
        return Golden(source: try #require(t["source"] as? String), bos: t["bos_token"] as? String, eos: t["eos_token"] as? String,
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

    /// Each template with the text that opens an assistant turn, the token that ends it, and the template's control
    /// tokens, special in that model's vocabulary (SmolLM2's has Qwen3's already).
    static let templates: [String: (start: String, end: String, specials: [String])] = [
        "qwen3_style": ("<|im_start|>assistant\n", "<|im_end|>", []),
        "gemma3_style": ("<start_of_turn>model\n", "<end_of_turn>", ["<bos>", "<start_of_turn>", "<end_of_turn>"]),
        "phi3_style": ("<|assistant|>\n", "<|end|>", ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]),
        "llama31_style": ("<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>",
                          ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]),
        // The space before an answer belongs to its first token (" Hello"), which overlaps the answer: learned.
        "mistral_style": (" [/INST]", "</s>", ["<s>", "</s>", "[INST]", "[/INST]"]),
    ]

    /// SmolLM2's tokenizer with `specials` added as special tokens after its vocabulary, as each model's own
    /// tokenizer has its template's control tokens.
    static func tokenizer(adding specials: [String]) throws -> Tokenizer {
        let directory = fixtures.appendingPathComponent("tokenizers/smollm2")
        guard !specials.isEmpty else { return try Tokenizer.load(directory) }
        let data = try Data(contentsOf: directory.appendingPathComponent("tokenizer.json"))
        var json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let vocabulary = try #require((json["model"] as? [String: Any])?["vocab"] as? [String: Any])
        var added = try #require(json["added_tokens"] as? [[String: Any]])
        for (i, content) in specials.enumerated() {
            added.append(["id": vocabulary.count + i, "content": content, "special": true, "single_word": false,
                          "lstrip": false, "rstrip": false, "normalized": false])
        }
        json["added_tokens"] = added
        return try Tokenizer(json: try JSONSerialization.data(withJSONObject: json))
    }
    static let cases = templates.keys.sorted().flatMap { template in
        ["multi_turn", "single_exchange", "unicode", "whitespace", "with_system", "thinking"].map { (template, $0) }
    }

    @Test(arguments: cases)
    func maskedTokensAreTheAssistantAnswersAsRendered(_ name: String, _ conversation: String) throws {
        let g = try Self.golden(name)
        let (start, end, specials) = try #require(Self.templates[name])
        let tokenizer = try Self.tokenizer(adding: specials)
        let template = try ChatTemplate(source: g.source, bosToken: g.bos, eosToken: g.eos)
        let messages = try #require(g.conversations[conversation])
        let golden = try #require(g.expected[conversation], "\(name) has no golden rendering of \(conversation)")
        let example = try ExampleBuilder(tokenizer: tokenizer, template: template, targets: .completions)
            .example(.chat(messages))
        let text = tokenizer.decode(example.tokens)
        // The Llama 3.1 template writes today's date unless given date_string (ChatTemplateTests checks it with
        // the golden's date); every other rendering is the golden's.
        if name == "llama31_style" {
            #expect(text.replacing(/Today Date: [^\n]*/, with: "") == golden.replacing(/Today Date: [^\n]*/, with: ""))
        } else {
            #expect(text == golden)
        }
        #expect(example.tokens == tokenizer.encode(text, allowSpecial: true))
        // Each assistant turn of the text (after its opening marker, up to its end token) with the end token.
        let turns = text.components(separatedBy: start).dropFirst().compactMap { rest in
            rest.range(of: end).map { String(rest[..<$0.lowerBound]) + end }
        }
        let answered = zip(messages.filter { $0.role == "assistant" }, turns).filter { !$0.0.content.isEmpty }.map(\.1)
        let learned = Self.learnedRuns(tokenizer, example)
        #expect(!answered.isEmpty && learned.count == answered.count, "\(name) \(conversation): \(learned)")
        // Each learned run is its turn's answer from the first visible character through the end token, plus at
        // most the whitespace before it that tokenizes with the answer's first token (transformers' overlap rule).
        for (run, turn) in zip(learned, answered) {
            let answer = String(turn.drop { $0.isWhitespace })
            #expect(run.hasSuffix(answer) && run.dropLast(answer.count).allSatisfy(\.isWhitespace),
                    "\(name) \(conversation): learned \(run.debugDescription) for the turn \(turn.debugDescription)")
        }
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
