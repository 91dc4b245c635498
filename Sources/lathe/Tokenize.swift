import ArgumentParser
import Foundation
import LatheTokenizers

/// `lathe tokenize`: token ids of text read from standard input (or given as arguments).
struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of text, as Hugging Face tokenizers would.",
        discussion: """
            PATH is a tokenizer.json or a model directory holding one (with tokenizer_config.json). \
            GGUF files are not read yet: this build has no GGUF reader; use the model's tokenizer.json.
            """
    )

    @Option(name: .long, help: "tokenizer.json, or a directory containing it.")
    var tokenizer: String

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
        let tok = try loadTokenizer(tokenizer)
        if jsonl {
            var lineNumber = 0
            while let line = readLine(strippingNewline: true) {
                lineNumber += 1
                if line.isEmpty { continue }
                let value: String
                do { value = try JSONDecoder().decode(String.self, from: Data(line.utf8)) } catch {
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

    /// One line per token: id, then the token's decoded text as a JSON-style quoted string.
    private func pieces(_ tok: Tokenizer, _ ids: [Int32]) -> String {
        ids.map { id in "\(id)\t\(quoted(tok.decode([id])))\t\(tok.token(of: id) ?? "")" }.joined(separator: "\n")
    }
}

/// Loads a tokenizer from a tokenizer.json or a model directory; GGUF files wait for the GGUF reader.
func loadTokenizer(_ path: String) throws -> Tokenizer {
    if path.lowercased().hasSuffix(".gguf") {
        throw ValidationError("\(path): reading a tokenizer from GGUF needs the GGUF reader, not in this build yet; "
            + "pass the model's tokenizer.json or its directory")
    }
    return try Tokenizer.load(URL(fileURLWithPath: path))
}

/// `s` as a double-quoted string with control characters escaped.
func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}
