// libFuzzer entry for chat templates: a fuzzed Jinja template renders fuzzed messages through the LatheJinja
// sandbox with its default limits (output size, loop iterations, recursion depth). Input layout:
// template NUL role NUL content NUL role NUL content … Any input must render or throw a TemplateError.
import FuzzSupport
import LatheJinja
import LatheTokenizers

/// Renders the template in `data` over the messages that follow it, with and without the generation prompt.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let parts = splitParts(fuzzBytes(data, size))
    guard let template = try? ChatTemplate(source: text(parts[0]), bosToken: "<s>", eosToken: "</s>") else { return 0 }
    var messages: [ChatMessage] = []
    var i = 1
    while i + 1 < parts.count {
        messages.append(ChatMessage(role: text(parts[i]), content: text(parts[i + 1])))
        i += 2
    }
    if messages.isEmpty {
        messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
                    ChatMessage(role: "assistant", content: "Hello.")]
    }
    _ = try? template.render(messages, addGenerationPrompt: false)
    _ = try? template.render(messages, addGenerationPrompt: true,
                             tools: [["type": "function", "function": ["name": "f", "parameters": [:]]]])
    return 0
}
