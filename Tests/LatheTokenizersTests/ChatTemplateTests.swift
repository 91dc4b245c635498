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
    var templates: [String: (source: String, bos: String?, eos: String?)] = [:]
    var conversations: [String: (messages: [ChatMessage], tools: [TemplateValue]?)] = [:]
    var dateString = ""
    var cases: [Case] = []

    static func load() throws -> ChatGoldens {
        guard let dir = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else { throw CocoaError(.fileNoSuchFile) }
        let text = try String(contentsOf: dir.appendingPathComponent("chat/chat_goldens.json"), encoding: .utf8)
        guard case .dict(let root) = try TemplateValue(json: text) else { throw CocoaError(.fileReadCorruptFile) }
        var g = ChatGoldens()
        if case .string(let d)? = root["date_string"] { g.dateString = d }
        if case .dict(let ts)? = root["templates"] {
            for e in ts.entries {
                guard case .dict(let t) = e.value, case .string(let source)? = t["source"] else { continue }
                g.templates[e.key] = (source, t["bos_token"]?.stringValue, t["eos_token"]?.stringValue)
            }
        }
        if case .list(let cs)? = root["conversations"] {
            for c in cs {
                guard case .dict(let d) = c, case .string(let name)? = d["name"], case .list(let ms)? = d["messages"] else { continue }
                var tools: [TemplateValue]? = nil
                if case .list(let t)? = d["tools"] { tools = t }
                g.conversations[name] = (ms.compactMap(message), tools)
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

@Test func chatGoldensCoverEveryTemplateAndConversation() throws {
    let g = try chatGoldens.get()
    #expect(g.templates.count == 9)
    #expect(g.conversations.count == 9)
    #expect(g.cases.count == 9 * 9 * 2)
}

@Test(arguments: (try? chatGoldens.get().cases) ?? [])
func chatTemplateMatchesTransformers(_ c: ChatGoldens.Case) throws {
    let g = try chatGoldens.get()
    let t = try #require(g.templates[c.template])
    let conv = try #require(g.conversations[c.conversation])
    let template = try ChatTemplate(source: t.source, bosToken: t.bos, eosToken: t.eos)
    let extra: [String: TemplateValue] = ["date_string": .string(g.dateString)]
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
    let bytes = Array(rendered.text.utf8)
    let pieces = rendered.assistantSpans.map { String(decoding: bytes[$0], as: UTF8.self) }
    if ChatTemplate.containsGenerationTag(t.source) {
        #expect(pieces == c.generationTexts)
        return
    }
    // One span per non-empty assistant content, holding that content (or its stripped form for `| trim` templates).
    let contents = conv.messages.filter { $0.role == "assistant" && !$0.content.isEmpty }.map(\.content)
    #expect(pieces.count == contents.count)
    for (piece, content) in zip(pieces, contents) {
        #expect(ChatTemplate.stripVariants(content).contains(piece), "\(piece.debugDescription) vs \(content.debugDescription)")
        if !["gemma_style", "llama31_style", "nemotron_nano_v2"].contains(c.template) { #expect(piece == content) }
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

@Test func templatesThatCutContentReportAnError() throws {
    let template = try ChatTemplate(source: "{% for m in messages %}{{ m.content[1:] }}{% endfor %}", bosToken: nil, eosToken: nil)
    #expect(throws: ChatTemplateError.self) {
        _ = try template.render([ChatMessage(role: "assistant", content: "abc")], addGenerationPrompt: false)
    }
}
