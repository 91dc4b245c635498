import ArgumentParser
import Foundation
import LatheFormats
import LatheTokenizers
import LatheTraining

/// `lathe tokenize`: token ids of text read from standard input (or given as arguments).
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of text, as Hugging Face tokenizers would.",
        discussion: """
            PATH is a tokenizer.json, a model directory holding one (with tokenizer_config.json), or a GGUF file. \
            With --chat, standard input is a JSON messages array ([{"role": "user", "content": "..."}, ...]); \
            the output is the rendered chat template, and with --show every token with the training mask \
            (* = learned from, with loss on assistant turns only).
            """
    )

    @Option(name: .long, help: "tokenizer.json, a directory containing it, or a GGUF model file.")
    var tokenizer: String

    @Flag(help: "Read a JSON messages array from standard input and render it with the chat template.")
    var chat = false

    @Flag(help: "Read one JSON string per input line; write one JSON array of ids per line.")
    var jsonl = false

    @Flag(name: .customLong("add-special"), help: "Add the tokens the post-processor adds (e.g. BOS).")
    var addSpecial = false

    @Flag(name: .customLong("allow-special"), help: "Match special tokens such as <|im_end|> written in the text.")
    var allowSpecial = false

    @Flag(help: "Print one line per token: its id and its text.")
    var show = false

    @Argument(help: "Text to tokenize (default: standard input).")
    var text: [String] = []

    func run() throws {
        let tok = try Tokenizer.forModel(at: tokenizer)
        if chat { return try renderChat(tok) }
        if jsonl {
            var lineNumber = 0
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                if line.isEmpty { continue }
                let value: String
                do { value = try JSONNode.parse(Array(line.utf8), file: "stdin").string() } catch {
                    throw ValidationError("stdin line \(lineNumber): expected a JSON string, like \"Hello\"")
                }
                let ids = tok.encode(value, addSpecialTokens: addSpecial, allowSpecial: allowSpecial)
                print(show ? pieces(tok, ids) : "[" + ids.map(String.init).joined(separator: ",") + "]")
            }
            return
        }
        let input = text.isEmpty ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                                 : text.joined(separator: " ")
        let ids = tok.encode(input, addSpecialTokens: addSpecial, allowSpecial: allowSpecial)
        print(show ? pieces(tok, ids) : "[" + ids.map(String.init).joined(separator: ", ") + "]")
    }

    /// The chat template's rendering of the messages on stdin; with --show, each token with its training mask.
    private func renderChat(_ tok: Tokenizer) throws {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        guard let array = (try? JSONValue.parse(Array(input)))?.arrayValue else {
            throw ValidationError("stdin: expected a JSON array of messages, like [{\"role\": \"user\", \"content\": \"Hi\"}]")
        }
        let messages = try array.enumerated().map { i, item -> ChatMessage in
            guard let role = item["role"]?.stringValue, let content = item["content"]?.stringValue else {
                throw ValidationError("stdin: message \(i) needs string fields \"role\" and \"content\"")
            }
            return ChatMessage(role: role, content: content)
        }
        guard let template = try tok.chatTemplate() else {
            throw ValidationError("\(tokenizer) has no chat template")
        }
        guard show else {
            print(try template.renderText(messages, addGenerationPrompt: false))
            return
        }
        let example = try ExampleBuilder(tokenizer: tok, template: template, targets: .completions).example(.chat(messages))
        for (id, learned) in zip(example.tokens, example.targetMask) {
            print("\(learned ? "*" : " ") \(id)\t\(LatheFormats.JSONValue.quoted(tok.decode([id])))")
        }
    }

    /// One line per token: id, then the token's decoded text as a JSON-style quoted string.
    private func pieces(_ tok: Tokenizer, _ ids: [Int32]) -> String {
        ids.map { id in "\(id)\t\(LatheFormats.JSONValue.quoted(tok.decode([id])))\t\(tok.token(of: id) ?? "")" }.joined(separator: "\n")
    }
}

