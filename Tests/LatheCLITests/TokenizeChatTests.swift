import Foundation
import Testing

/// `lathe tokenize --chat --show`: every token of the rendered conversation, `*` on those the adapter learns from.
@Suite struct TokenizeChatTests {
    static let tokenizer = "Tests/LatheTokenizersTests/Fixtures/tokenizers/smollm2"

    @Test func showMarksExactlyTheAssistantAnswerAndItsEndToken() throws {
        let messages = #"[{"role": "user", "content": "Hi there"}, {"role": "assistant", "content": "Hello, friend."}]"#
        let result = try CLI.run(["tokenize", "--tokenizer", Self.tokenizer, "--chat", "--show"], stdin: messages)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // Each line: mark, space, id, tab, the token's text as a JSON string.
        let learned = lines.filter { $0.hasPrefix("*") }.compactMap { $0.split(separator: "\t").last }
            .map { String($0.dropFirst().dropLast()) }
        #expect(learned.joined() == "Hello, friend.<|im_end|>", "\(lines)")
        #expect(lines.contains { $0.hasPrefix(" ") && $0.hasSuffix("\"Hi\"") })
        #expect(lines.count > learned.count)
    }
}
