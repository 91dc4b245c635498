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
}
