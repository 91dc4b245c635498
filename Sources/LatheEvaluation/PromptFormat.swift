import Foundation
import LatheTokenizers

/// How contexts are laid out: plain text, or through the model's chat template as lm-eval 0.4.13
/// `ConfigurableTask.fewshot_context` does with `--apply_chat_template`, `--fewshot_as_multiturn` and
/// `--system_instruction`.
public struct PromptFormat: Sendable {
    /// The chat template contexts are rendered with; nil for plain text.
    public var chatTemplate: ChatTemplate?
    /// Few-shot examples as alternating user/assistant turns (lm-eval's default with a chat template); otherwise
    /// they are collapsed into one user message (`multiturn_to_singleturn`).
    public var fewshotAsMultiturn: Bool
    /// lm-eval `--system_instruction`: a system message before the task description (plain text too).
    public var systemInstruction: String?

    /// Plain text contexts, as lm-eval without `--apply_chat_template`.
    public static let plain = PromptFormat()

    public init(chatTemplate: ChatTemplate? = nil, fewshotAsMultiturn: Bool? = nil, systemInstruction: String? = nil) {
        self.chatTemplate = chatTemplate
        self.fewshotAsMultiturn = fewshotAsMultiturn ?? (chatTemplate != nil)
        self.systemInstruction = systemInstruction
    }
}

/// One part of a context (lm-eval `api/utils.py` `Message`): in plain text the content then its delimiter, in a
/// chat the content alone.
struct PromptMessage: Equatable {
    var role: String
    var content: String
    var delimiter = ""

    var text: String { content + delimiter }
}

enum PromptLayout {
    /// `maybe_delimit`: prefix + delimiter + suffix unless either side has whitespace at the join.
    static func maybeDelimit(_ prefix: String?, _ suffix: String?, delimiter: String) -> String {
        guard let prefix, !prefix.isEmpty else { return suffix ?? "" }
        guard let suffix, !suffix.isEmpty else { return prefix }
        let joinHasSpace = prefix.unicodeScalars.last!.properties.isWhitespace
            || suffix.unicodeScalars.first!.properties.isWhitespace
        return joinHasSpace ? prefix + suffix : prefix + delimiter + suffix
    }

    /// `build_qa_turn` without `gen_prefix`: the question, and the answer turn when there is an answer.
    static func qaTurn(question: String, answer: String?, targetDelimiter: String, fewshotDelimiter: String) -> [PromptMessage] {
        guard let answer, !answer.isEmpty else { return [PromptMessage(role: "user", content: question)] }
        return [PromptMessage(role: "user", content: question, delimiter: targetDelimiter),
                PromptMessage(role: "assistant", content: answer, delimiter: fewshotDelimiter)]
    }

    /// The system message of a context: `maybe_delimit(system_instruction, description, fewshot_delimiter)`.
    static func system(instruction: String?, description: String, fewshotDelimiter: String) -> [PromptMessage] {
        let text = maybeDelimit(instruction, description, delimiter: fewshotDelimiter)
        return text.isEmpty ? [] : [PromptMessage(role: "system", content: text)]
    }

    /// `multiturn_to_singleturn`: the system message kept, every other message joined as plain text into one
    /// user message (the last one without its delimiter).
    static func singleTurn(_ messages: [PromptMessage]) -> [PromptMessage] {
        var rest = messages
        var out = [PromptMessage]()
        if rest.first?.role == "system" { out.append(rest.removeFirst()) }
        guard !rest.isEmpty else { return out }
        rest[rest.count - 1].delimiter = ""
        out.append(PromptMessage(role: "user", content: rest.map(\.text).joined()))
        return out
    }

    /// The context string: plain text, or the chat template's rendering with the generation prompt. As lm-eval's
    /// `HFLM.apply_chat_template`, a template that rejects the chat is tried again without system messages.
    static func render(_ messages: [PromptMessage], format: PromptFormat) throws -> String {
        guard let template = format.chatTemplate else { return messages.map(\.text).joined() }
        let chat = (format.fewshotAsMultiturn ? messages : singleTurn(messages))
            .map { ChatMessage(role: $0.role, content: $0.content) }
        do {
            return try template.renderText(chat, addGenerationPrompt: true)
        } catch {
            let withoutSystem = chat.filter { $0.role != "system" }
            guard withoutSystem.count < chat.count else { throw error }
            return try template.renderText(withoutSystem, addGenerationPrompt: true)
        }
    }
}
