import Foundation
import LatheJinja
import Testing
@testable import LatheTokenizers

/// The goldens written by Scripts/goldens/chat_templates.py with transformers' `render_jinja_template`.
struct ChatGoldens {
    struct Case: CustomStringConvertible {
        let template: String
        let conversation: String
        let addGenerationPrompt: Bool
        let expected: String?
        let error: String?
        let errorType: String?
        let generationTexts: [String]
        var description: String { "\(template)/\(conversation)/\(addGenerationPrompt)" }
    }
    /// Each template with its BOS/EOS texts and the extra variables the golden passed (apply_chat_template kwargs).
    var templates: [String: (source: String, bos: String?, eos: String?, extra: [String: TemplateValue])] = [:]
    var conversations: [String: (messages: [ChatMessage], tools: [TemplateValue]?)] = [:]
    var dateString = ""
    var cases: [Case] = []
    /// Conversation names in file order.
    var conversationNames: [String] = []

    static func load() throws -> ChatGoldens {
        guard let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else { throw CocoaError(.fileNoSuchFile) }
        let text = try String(contentsOf: dir.appendingPathComponent("chat/chat_goldens.json"), encoding: .utf8)
        guard case .dict(let root) = try TemplateValue(json: text) else { throw CocoaError(.fileReadCorruptFile) }
        var g = ChatGoldens()
        if case .string(let d)? = root["date_string"] { g.dateString = d }
        if case .dict(let ts)? = root["templates"] {
            for e in ts.entries {
                guard case .dict(let t) = e.value, case .string(let source)? = t["source"] else { continue }
                var extra: [String: TemplateValue] = [:]
                if case .dict(let x)? = t["extra_context"] { for v in x.entries { extra[v.key] = v.value } }
                g.templates[e.key] = (source, t["bos_token"]?.stringValue, t["eos_token"]?.stringValue, extra)
            }
        }
        if case .list(let cs)? = root["conversations"] {
            for c in cs {
                guard case .dict(let d) = c, case .string(let name)? = d["name"], case .list(let ms)? = d["messages"] else { continue }
                var tools: [TemplateValue]? = nil
                if case .list(let t)? = d["tools"] { tools = t }
                g.conversations[name] = (ms.compactMap(message), tools)
                g.conversationNames.append(name)
            }
        }
        if case .list(let cs)? = root["cases"] {
            for c in cs {
                guard case .dict(let d) = c else { continue }
                var texts: [String] = []
                if case .list(let l)? = d["generation_texts"] { texts = l.compactMap(\.stringValue) }
                g.cases.append(Case(template: d["template"]?.stringValue ?? "", conversation: d["conversation"]?.stringValue ?? "",
                                    addGenerationPrompt: d["add_generation_prompt"] == .bool(true),
                                    expected: d["expected"]?.stringValue, error: d["error"]?.stringValue,
                                    errorType: d["error_type"]?.stringValue,
                                    generationTexts: texts))
            }
        }
        return g
    }

    static func message(_ v: TemplateValue) -> ChatMessage? {
        guard case .dict(let d) = v, let role = d["role"]?.stringValue, let content = d["content"]?.stringValue else { return nil }
        var calls: [ChatToolCall]? = nil
        if case .list(let l)? = d["tool_calls"] {
            calls = l.compactMap { call in
                guard case .dict(let c) = call, case .dict(let f)? = c["function"], let name = f["name"]?.stringValue else { return nil }
                return ChatToolCall(name: name, arguments: f["arguments"] ?? .none)
            }
        }
        return ChatMessage(role: role, content: content, toolCalls: calls, name: d["name"]?.stringValue)
    }
}

extension TemplateValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}

let chatGoldens = Result { try ChatGoldens.load() }

/// Every template × conversation × add_generation_prompt has exactly one case, and the templates and conversations
/// the tests below name are there, so a regenerated file that lost a case, a template or a conversation fails here.
@Test func chatGoldensCoverEveryTemplateAndConversation() throws {
    let g = try chatGoldens.get()
    for name in ["smollm2", "llama31_style", "qwen25_style", "mistral_style", "gemma_style", "chatml_generation",
                 "phi4_mini", "deepseek_r1_distill", "nemotron_nano_v2", "qwen3_style", "qwen3_style_no_thinking",
                 "gemma3_style", "phi3_style"] {
        #expect(g.templates[name] != nil, "template \(name) missing")
    }
    for name in ["single_turn", "single_exchange", "multi_turn", "with_system", "unicode", "whitespace", "jinja_text",
                 "empty_content", "tool_use", "thinking"] {
        #expect(g.conversations[name] != nil, "conversation \(name) missing")
    }
    #expect(g.templates["qwen3_style_no_thinking"]?.extra["enable_thinking"] == .bool(false))
    var seen: [String: Int] = [:]
    for c in g.cases { seen[c.description, default: 0] += 1 }
    for t in g.templates.keys.sorted() {
        for conv in g.conversationNames {
            for agp in [false, true] {
                #expect(seen["\(t)/\(conv)/\(agp)"] == 1, "\(t)/\(conv)/\(agp): \(seen["\(t)/\(conv)/\(agp)"] ?? 0) cases")
            }
        }
    }
    #expect(g.cases.count == g.templates.count * g.conversationNames.count * 2)
}

@Test(arguments: (try? chatGoldens.get().cases) ?? [])
func chatTemplateMatchesTransformers(_ c: ChatGoldens.Case) throws {
    let g = try chatGoldens.get()
    let t = try #require(g.templates[c.template])
    let conv = try #require(g.conversations[c.conversation])
    let template = try ChatTemplate(source: t.source, bosToken: t.bos, eosToken: t.eos)
    let extra = t.extra.merging(["date_string": .string(g.dateString)]) { golden, _ in golden }
    if let message = c.error {
        #expect(throws: TemplateError.self) {
            _ = try template.render(conv.messages, addGenerationPrompt: c.addGenerationPrompt, tools: conv.tools, extraContext: extra)
        }
        guard c.errorType == "TemplateError" else { return }  // a type error inside the template
        do {
            _ = try template.render(conv.messages, addGenerationPrompt: c.addGenerationPrompt, tools: conv.tools, extraContext: extra)
        } catch TemplateError.raised(_, _, let m) {
            #expect(m == message)
        } catch {
            Issue.record("expected raise_exception(\(message)), got \(error)")
        }
        return
    }
    let rendered = try template.render(conv.messages, addGenerationPrompt: c.addGenerationPrompt, tools: conv.tools,
                                       extraContext: extra)
    #expect(rendered.text == c.expected)
    #expect(try template.renderText(conv.messages, addGenerationPrompt: c.addGenerationPrompt, tools: conv.tools,
                                    extraContext: extra) == c.expected)
    let bytes = Array(rendered.text.utf8)
    let pieces = rendered.assistantSpans.map { String(decoding: bytes[$0], as: UTF8.self) }
    if ChatTemplate.containsGenerationTag(t.source) {
        #expect(pieces == c.generationTexts)
        return
    }
    let contents = conv.messages.filter { $0.role == "assistant" && !$0.content.isEmpty }.map(\.content)
    #expect(pieces.count == contents.count)
    #expect(zip(rendered.assistantSpans, rendered.assistantSpans.dropFirst()).allSatisfy { $0.upperBound <= $1.lowerBound })
    let others = conv.messages.filter { $0.role != "assistant" && !$0.content.isEmpty }.map(\.content)
    let prompt = g.generationPrompt(c.template)
    for (piece, content) in zip(pieces, contents) {
        // Where the golden text holds the content (or its answer after </think>) unchanged, the turn holds all of
        // it: only a template that strips the content may lose its whitespace.
        let answer = content.components(separatedBy: "</think>").last ?? content
        let verbatim = [content, answer].first { c.expected?.contains($0) == true }
        // The span may leave out text the generation prompt already gives the model (Qwen3 with enable_thinking
        // false: `<think>\n\n</think>\n\n`); put back each run of the prompt in turn to find the rendered turn.
        let given = [""] + substrings(prompt)
        #expect(given.contains { g in isRenderedTurn(g + piece, of: content) && verbatim.map { (g + piece).hasSuffix($0) } != false },
                "\(piece.debugDescription) vs \(content.debugDescription)")
        #expect(!others.contains { piece.contains($0) }, "\(piece.debugDescription) reaches into another message")
    }
}

/// Every non-empty substring of `s` (the generation prompts are a few dozen characters).
func substrings(_ s: String) -> [String] {
    let chars = Array(s)
    return chars.indices.flatMap { i in (i + 1...chars.count).map { String(chars[i..<$0]) } }
}

extension ChatGoldens {
    /// What `add_generation_prompt` appends to the golden single-turn rendering of `template` ("" if unknown).
    func generationPrompt(_ template: String) -> String {
        func text(_ agp: Bool) -> String? {
            cases.first { $0.template == template && $0.conversation == "single_turn" && $0.addGenerationPrompt == agp }?.expected
        }
        guard let closed = text(false), let opened = text(true), opened.hasPrefix(closed) else { return "" }
        return String(opened.dropFirst(closed.count))
    }
}

/// A turn as a template renders it: the content or the answer after its last `</think>`, whitespace-stripped the ways
/// templates strip (Python strip/lstrip/rstrip, lstrip('\n')), optionally after a `<think>…</think>` block the
/// template printed itself (Qwen3's last turn, whose think block the model generates after `<|im_start|>assistant\n`).
func isRenderedTurn(_ piece: String, of content: String) -> Bool {
    let answer = content.components(separatedBy: "</think>").last ?? content
    let forms = [content, answer].flatMap { s in
        ChatTemplate.stripVariants(s) + [String(s.drop(while: { $0 == "\n" }))]
    }
    return forms.contains { form in
        guard piece.hasSuffix(form) else { return false }
        let block = piece.dropLast(form.count)
        return block.isEmpty || (block.hasPrefix("<think>\n") && block.hasSuffix("</think>\n\n"))
    }
}

@Test func raiseExceptionCarriesItsMessage() throws {
    let template = try ChatTemplate(source: "{{ raise_exception('only ' ~ messages[0].role) }}", bosToken: nil, eosToken: nil)
    #expect(throws: TemplateError.raised(line: 1, column: 4, message: "only user")) {
        _ = try template.render([ChatMessage(role: "user", content: "x")], addGenerationPrompt: false)
    }
}

@Test func hostileChatTemplatesStopFast() throws {
    let user = [ChatMessage(role: "user", content: "hi")]
    for source in ["{% for i in range(10**9) %}x{% endfor %}",
                   "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
                   "{{ messages[0].content * 10**9 }}"] {
        let template = try ChatTemplate(source: source, bosToken: nil, eosToken: nil)
        #expect(throws: TemplateError.self) { _ = try template.render(user, addGenerationPrompt: true) }
        do {
            _ = try template.render(user, addGenerationPrompt: true)
        } catch TemplateError.limitExceeded {
        } catch {
            Issue.record("\(source): expected limitExceeded, got \(error)")
        }
    }
}

@Test func contentThatLooksLikeJinjaIsNotEvaluated() throws {
    let template = try ChatTemplate(source: "{% for m in messages %}[{{ m.content }}]{% endfor %}", bosToken: nil, eosToken: nil)
    let r = try template.render([ChatMessage(role: "user", content: "{{ 7*7 }}"),
                                 ChatMessage(role: "assistant", content: "{% for %}")], addGenerationPrompt: false)
    #expect(r.text == "[{{ 7*7 }}][{% for %}]")
    #expect(r.assistantSpans == [12..<21])
}

@Test func spansFollowTemplatesThatStripContent() throws {
    let source = "{% for m in messages %}<{{ m.role }}>{{ m.content | trim }}</{{ m.role }}>{% endfor %}"
    let template = try ChatTemplate(source: source, bosToken: nil, eosToken: nil)
    let messages = [ChatMessage(role: "user", content: " a "), ChatMessage(role: "assistant", content: "  b b \n"),
                    ChatMessage(role: "user", content: "c"), ChatMessage(role: "assistant", content: "b")]
    let r = try template.render(messages, addGenerationPrompt: false)
    let bytes = Array(r.text.utf8)
    #expect(r.assistantSpans.map { String(decoding: bytes[$0], as: UTF8.self) } == ["b b", "b"])
    #expect(r.text == "<user>a</user><assistant>b b</assistant><user>c</user><assistant>b</assistant>")
}

@Test func spansAreUTF8ByteOffsets() throws {
    let template = try ChatTemplate(source: "{% for m in messages %}{{ m.content }}|{% endfor %}", bosToken: nil, eosToken: nil)
    let r = try template.render([ChatMessage(role: "user", content: "é"), ChatMessage(role: "assistant", content: "😀")],
                                addGenerationPrompt: false)
    #expect(r.assistantSpans == [3..<7])
}

@Test func spansCoverContentTheTemplateRecases() throws {
    let template = try ChatTemplate(source: "{% for m in messages %}<{{ m.content | upper }}>{% endfor %}", bosToken: nil, eosToken: nil)
    let r = try template.render([ChatMessage(role: "assistant", content: "abc")], addGenerationPrompt: false)
    #expect(r.text == "<ABC>")
    #expect(r.assistantSpans == [1..<4])
}

@Test func templatesThatCutContentMaskWhatTheyRender() throws {
    let template = try ChatTemplate(source: "{% for m in messages %}<{{ m.content[1:] }}>{% endfor %}", bosToken: nil, eosToken: nil)
    let r = try template.render([ChatMessage(role: "user", content: "q"), ChatMessage(role: "assistant", content: "abc")],
                                addGenerationPrompt: false)
    #expect(r.text == "<><bc>")
    #expect(r.assistantSpans == [3..<5])
}

@Test func templatesThatRepeatOrIgnoreAssistantContentReportAnError() throws {
    let chat = [ChatMessage(role: "user", content: "q"), ChatMessage(role: "assistant", content: "a1"),
                ChatMessage(role: "user", content: "r"), ChatMessage(role: "assistant", content: "a2")]
    // The last reply printed again as a header reaches over the first one: no honest mask exists.
    let repeating = try ChatTemplate(source: "[{{ messages[-1].content }}]{% for m in messages %}<{{ m.content }}>{% endfor %}",
                                     bosToken: nil, eosToken: nil)
    #expect(throws: ChatTemplateError.self) { _ = try repeating.render(chat, addGenerationPrompt: false) }
    let ignoring = try ChatTemplate(source: "{% for m in messages if m.role == 'user' %}<{{ m.content }}>{% endfor %}",
                                    bosToken: nil, eosToken: nil)
    #expect(throws: ChatTemplateError.self) { _ = try ignoring.render(chat, addGenerationPrompt: false) }
}
