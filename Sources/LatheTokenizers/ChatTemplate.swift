import Foundation
import LatheJinja

/// A tool call made by an assistant message, rendered as transformers' `{"type": "function", "function": {...}}`.
public struct ChatToolCall: Sendable, Equatable {
    /// The function name.
    public var name: String
    /// The arguments, usually a JSON object.
    public var arguments: TemplateValue
    /// The call id some templates print (`tool_call.id`).
    public var id: String?

    /// A tool call of `name` with `arguments`.
    public init(name: String, arguments: TemplateValue, id: String? = nil) {
        self.name = name
        self.arguments = arguments
        self.id = id
    }
}

/// One chat message, with the fields chat templates read (`role`, `content`, `tool_calls`, `name`, `tool_call_id`).
public struct ChatMessage: Sendable, Equatable {
    /// `system`, `user`, `assistant`, `tool`, …
    public var role: String
    /// The text of the message.
    public var content: String
    /// Tool calls of an assistant message; absent from the template's view when nil.
    public var toolCalls: [ChatToolCall]?
    /// The tool name of a `tool` message.
    public var name: String?
    /// The id of the call a `tool` message answers.
    public var toolCallID: String?

    /// A message; optional fields are left out of the template's dict when nil, as in a Python message dict.
    public init(role: String, content: String, toolCalls: [ChatToolCall]? = nil, name: String? = nil,
                toolCallID: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.name = name
        self.toolCallID = toolCallID
    }

    /// The message as the dict a template sees.
    public func templateValue(content override: String? = nil) -> TemplateValue {
        var d = TemplateDict([("role", .string(role)), ("content", .string(override ?? content))])
        if let toolCalls {
            d["tool_calls"] = .list(toolCalls.map { call in
                var c = TemplateDict([("type", "function"),
                                      ("function", .dict(TemplateDict([("name", .string(call.name)), ("arguments", call.arguments)])))])
                if let id = call.id { c["id"] = .string(id) }
                return .dict(c)
            })
        }
        if let name { d["name"] = .string(name) }
        if let toolCallID { d["tool_call_id"] = .string(toolCallID) }
        return .dict(d)
    }
}

/// A rendered conversation and where the assistant replies are in it.
public struct RenderedChat: Sendable, Equatable {
    /// The prompt text, identical to transformers' `apply_chat_template(..., tokenize=False)`.
    public var text: String
    /// UTF-8 byte ranges into `text`: the `{% generation %}` bodies when the template has them, otherwise one range
    /// per non-empty assistant message, in order, holding what the template rendered for that turn after its
    /// generation prompt (see `AssistantSpanFinder`), for completion-only loss masking.
    public var assistantSpans: [Range<Int>]
}

/// Why a chat could not be rendered with span information.
public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    /// The template renders assistant contents in a way the span finder cannot follow (not at all, or repeated).
    case assistantSpansNotFound(String)

    /// A one-line message with the position and what went wrong.
    public var description: String {
        switch self {
        case .assistantSpansNotFound(let m):
            return "chat template: could not locate assistant replies in the rendered text (\(m)); "
                + "add {% generation %} blocks around assistant content to mark them explicitly"
        }
    }
}

/// A Hugging Face chat template (`tokenizer_config.json` `chat_template`, GGUF `tokenizer.chat_template`), rendered
/// as transformers' `apply_chat_template` does, in LatheJinja's sandbox.
public struct ChatTemplate: Sendable {
    /// The template text.
    public let source: String
    /// The text of the BOS token the template may print as `bos_token`; nil leaves it undefined.
    public let bosToken: String?
    /// The text of the EOS token, `eos_token`.
    public let eosToken: String?
    private let template: Template
    private let hasGenerationBlocks: Bool

    /// Parses `source`; throws `TemplateError` on invalid syntax or a template over the size limit.
    public init(source: String, bosToken: String?, eosToken: String?, limits: TemplateLimits = .default) throws {
        self.source = source
        self.bosToken = bosToken
        self.eosToken = eosToken
        template = try Template(source, limits: limits)
        hasGenerationBlocks = ChatTemplate.containsGenerationTag(source)
    }

    /// The text of `messages` rendered, without locating assistant turns: for callers that only need the prompt
    /// (generation, printing), which the extra passes of `render` would cost for nothing.
    public func renderText(_ messages: [ChatMessage], addGenerationPrompt: Bool, tools: [TemplateValue]? = nil,
                           extraContext: [String: TemplateValue] = [:]) throws -> String {
        try template.renderWithSpans(context(messages.map { $0.templateValue() }, addGenerationPrompt, tools,
                                             extraContext), now: Date()).text
    }

    /// Renders `messages` and locates each assistant turn in the text. `tools` are JSON schemas (`tools` is `None` in the template when nil); `extraContext` adds
    /// template variables such as `date_string`. Throws `TemplateError.raised` when the template rejects the chat.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool, tools: [TemplateValue]? = nil,
                       extraContext: [String: TemplateValue] = [:]) throws -> RenderedChat {
        let now = Date()  // one clock reading for every pass, so `strftime_now` agrees between them
        let output = try template.renderWithSpans(context(messages.map { $0.templateValue() }, addGenerationPrompt,
                                                          tools, extraContext), now: now)
        if hasGenerationBlocks { return RenderedChat(text: output.text, assistantSpans: output.generationSpans) }
        let spans = try AssistantSpanFinder(render: { values, generationPrompt in
            try template.renderWithSpans(context(values, generationPrompt, tools, extraContext), now: now).text
        }, addGenerationPrompt: addGenerationPrompt).spans(text: output.text, messages: messages)
        return RenderedChat(text: output.text, assistantSpans: spans)
    }

    /// The variables transformers passes: `messages`, `tools`, `documents`, `add_generation_prompt`, special tokens.
    private func context(_ messages: [TemplateValue], _ addGenerationPrompt: Bool, _ tools: [TemplateValue]?,
                         _ extra: [String: TemplateValue]) -> [String: TemplateValue] {
        var c: [String: TemplateValue] = [
            "messages": .list(messages),
            "tools": tools.map { .list($0) } ?? .none,
            "documents": .none,
            "add_generation_prompt": .bool(addGenerationPrompt),
        ]
        if let bosToken { c["bos_token"] = .string(bosToken) }
        if let eosToken { c["eos_token"] = .string(eosToken) }
        for (k, v) in extra { c[k] = v }
        return c
    }

    /// transformers' check: `re.search(r"\{\%-?\s*generation\s*-?\%\}", chat_template)`.
    static func containsGenerationTag(_ source: String) -> Bool {
        let b = Array(source.utf8)
        var i = 0
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
        while i + 1 < b.count {
            defer { i += 1 }
            guard b[i] == UInt8(ascii: "{"), b[i + 1] == UInt8(ascii: "%") else { continue }
            var j = i + 2
            if j < b.count, b[j] == UInt8(ascii: "-") { j += 1 }
            while j < b.count, isSpace(b[j]) { j += 1 }
            let word = Array("generation".utf8)
            guard j + word.count <= b.count, Array(b[j..<j + word.count]) == word else { continue }
            j += word.count
            while j < b.count, isSpace(b[j]) { j += 1 }
            if j < b.count, b[j] == UInt8(ascii: "-") { j += 1 }
            if j + 1 < b.count, b[j] == UInt8(ascii: "%"), b[j + 1] == UInt8(ascii: "}") { return true }
        }
        return false
    }
}

extension ChatTemplate {
    /// The content as is, then Python `strip()`, `lstrip()`, `rstrip()` of it (the transformations templates apply).
    static func stripVariants(_ s: String) -> [String] {
        func isSpace(_ c: Unicode.Scalar) -> Bool {
            switch c.value {
            case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
                return true
            default: return false
            }
        }
        var scalars = Substring(s).unicodeScalars[...]
        var left = scalars
        while let f = left.first, isSpace(f) { left.removeFirst() }
        while let l = scalars.last, isSpace(l) { scalars.removeLast() }
        var both = left
        while let l = both.last, isSpace(l) { both.removeLast() }
        var out: [String] = []
        for v in [s, String(String.UnicodeScalarView(both)), String(String.UnicodeScalarView(left)),
                  String(String.UnicodeScalarView(scalars))] where !out.contains(v) {
            out.append(v)
        }
        return out
    }
}

extension Tokenizer {
    /// The chat template shipped with the tokenizer, ready to render, or nil when there is none.
    public func chatTemplate() throws -> ChatTemplate? {
        guard let source = config.chatTemplate else { return nil }
        return try ChatTemplate(source: source, bosToken: config.bosToken, eosToken: config.eosToken)
    }
}
