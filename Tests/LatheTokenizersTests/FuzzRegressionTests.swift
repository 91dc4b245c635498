import Foundation
import Testing
import LatheJinja
@testable import LatheTokenizers

/// Inputs that libFuzzer found (Fuzz/run.sh), replayed as the fuzz target replays them. Each must end in a value or
/// a thrown error; a trap, hang or sanitizer report would fail the suite or the fuzz run.
@Suite struct FuzzRegressionTests {
    static func findings(_ target: String) throws -> [URL] {
        let folder = try Fixtures.root.appendingPathComponent("fuzz/\(target)")
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Splits a chat-template input: template NUL role NUL content NUL … (an odd trailing part is ignored).
    static func chatInput(_ file: URL) throws -> (ChatTemplate, [ChatMessage]) {
        let parts = try Data(contentsOf: file).split(separator: 0, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        let messages = stride(from: 1, to: parts.count - 1, by: 2).map { ChatMessage(role: parts[$0], content: parts[$0 + 1]) }
        return (try ChatTemplate(source: parts[0], bosToken: "<s>", eosToken: "</s>"), messages)
    }

    /// Every committed finding renders or throws a TemplateError, as the fuzz target requires.
    @Test func chatTemplateFindingsRenderOrThrow() throws {
        let files = try Self.findings("chat-template")
        #expect(!files.isEmpty)
        for file in files {
            let (template, messages) = try Self.chatInput(file)
            do { _ = try template.render(messages, addGenerationPrompt: true) } catch is TemplateError {}
        }
    }

    /// The leak finding (a ChatML template; LeakSanitizer saw its AST outlive the render): renders the ChatML text.
    @Test func chatTemplateLeakFindingRendersChatML() throws {
        let file = try Fixtures.root.appendingPathComponent("fuzz/chat-template/leak-953cebb0e97f5f8bb16657be9e7a7593ee3a8b37")
        let (template, messages) = try Self.chatInput(file)
        #expect(messages.count == 4)
        let expected = messages.map { "<|im_start|>\($0.role)\n\($0.content)<|im_end|>\n" }.joined() + "<|im_start|>assiskant\n"
        #expect(try template.render(messages, addGenerationPrompt: true).text == expected)
    }

    /// The tokenizer-json finding: a Split regex that becomes 297 UTF-16 units once `\s` is widened, in a tokenizer
    /// whose merges name a token its vocabulary lacks. LeakSanitizer reported the pattern's UTF-16 copy, which
    /// Foundation's NSRegularExpression leaks for patterns over 256 units (outside Lathe; suppressed and bounded in
    /// Fuzz/lsan.supp). The regex must compile and match, and the file must be refused naming the merge.
    @Test func tokenizerJSONLongRegexFindingIsRefusedByItsMerges() throws {
        let file = try Fixtures.root.appendingPathComponent("fuzz/tokenizer-json/leak-82ddd22cd7cb12e4546d9ac08082b64cf30d4ea6")
        let data = try Data(contentsOf: file)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pre = try #require(json["pre_tokenizer"] as? [String: Any])
        let split = try #require((pre["pretokenizers"] as? [[String: Any]])?.first)
        let pattern = try #require((split["pattern"] as? [String: Any])?["Regex"] as? String)
        #expect(TokenRegex.onigurumaSpaces(pattern).utf16.count > 256)
        let regex = try TokenRegex(pattern)
        #expect(!regex.isFast)
        let text = Array("Hello world, it's 2026!".utf8)
        var ranges: [Range<Int>] = []
        text.withUnsafeBufferPointer { regex.matches($0, 0, text.count, into: &ranges) }
        #expect(!ranges.isEmpty && ranges.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= text.count })
        do {
            _ = try Tokenizer(json: data, file: file.path)
            Issue.record("a tokenizer whose merges name missing tokens loaded")
        } catch {
            let message = "\(error)"
            #expect(message.contains(file.lastPathComponent) && message.contains("merge #186") && message.contains("not in the vocabulary"),
                    "\(message)")
        }
    }
}
