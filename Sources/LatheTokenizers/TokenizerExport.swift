import Foundation
import LatheFormats

extension Tokenizer {
    /// The tokenizer as a Hugging Face `tokenizer.json` (format "1.0", what `tokenizers` 0.20+ and transformers read),
    /// so a model exported from a GGUF carries the tokenizer Lathe built from its metadata. The text is deterministic:
    /// keys in HF's order, added tokens and vocabulary by id, merges in rank order as `[left, right]` pairs.
    /// Throws `TokenizerError.notExportable` when a component cannot be written (a template id with no token).
    public func huggingFaceJSON() throws -> Data {
        var postProcessor = JSONValue.null
        if let processor = self.postProcessor {
            postProcessor = try processor.huggingFaceJSON(token: { self.token(of: $0) }, path: "$.post_processor")
        }
        var out = "{\n"
        func member(_ key: String, _ value: String, last: Bool = false) {
            out += "  \(JSONValue.quoted(key)): \(value)\(last ? "\n" : ",\n")"
        }
        member("version", JSONValue.quoted("1.0"))
        member("truncation", "null")
        member("padding", "null")
        member("added_tokens", Tokenizer.lines(addedTokens.sorted { $0.id < $1.id }.map { $0.huggingFaceJSON.serialized() },
                                               open: "[", close: "]", indent: "  "))
        member("normalizer", (normalizer?.huggingFaceJSON ?? .null).serialized())
        member("pre_tokenizer", (preTokenizer?.huggingFaceJSON ?? .null).serialized())
        member("post_processor", postProcessor.serialized())
        member("decoder", (decoder?.huggingFaceJSON ?? .null).serialized())
        var modelLines = model.huggingFaceSettings.map { "\(JSONValue.quoted($0.0)): \($0.1.serialized())" }
        let vocab = model.huggingFaceVocab.map { "\(JSONValue.quoted($0.0)): \($0.1)" }
        modelLines.append("\"vocab\": " + Tokenizer.lines(vocab, open: "{", close: "}", indent: "    "))
        let merges = model.huggingFaceMerges.map { "[\(JSONValue.quoted($0.0)), \(JSONValue.quoted($0.1))]" }
        modelLines.append("\"merges\": " + Tokenizer.lines(merges, open: "[", close: "]", indent: "    "))
        member("model", Tokenizer.lines(modelLines, open: "{", close: "}", indent: "  "), last: true)
        out += "}\n"
        return Data(out.utf8)
    }

    /// A Hugging Face `tokenizer_config.json` for this tokenizer: special tokens (null when unknown),
    /// `add_bos_token`/`add_eos_token` when known, the chat template and `PreTrainedTokenizerFast` as the class.
    /// `chatTemplate` replaces the default template; without it the config's templates are written (a list when
    /// there are named ones). `modelMaxLength` (the model's context length) is written when given.
    public func huggingFaceConfigJSON(chatTemplate: String?, modelMaxLength: Int? = nil) throws -> Data {
        var config = JSONObject()
        if let add = self.config.addBosToken { config["add_bos_token"] = .bool(add) }
        if let add = self.config.addEosToken { config["add_eos_token"] = .bool(add) }
        config["bos_token"] = jsonString(self.config.bosToken)
        config["eos_token"] = jsonString(self.config.eosToken)
        config["unk_token"] = jsonString(self.config.unkToken)
        config["pad_token"] = jsonString(self.config.padToken)
        var templates = self.config.chatTemplates
        if let chatTemplate { templates["default"] = chatTemplate }
        if templates.count == 1, let only = templates["default"] {
            config["chat_template"] = .string(only)
        } else if !templates.isEmpty {
            // HF's list form, the default first, then the named templates by name.
            let names = templates.keys.sorted { ($0 == "default" ? 0 : 1, $0) < ($1 == "default" ? 0 : 1, $1) }
            config["chat_template"] = .array(names.map { name in
                jsonObject(["name": .string(name), "template": .string(templates[name] ?? "")])
            })
        }
        config["clean_up_tokenization_spaces"] = .bool(false)
        if let modelMaxLength {
            guard modelMaxLength > 0 else {
                throw TokenizerError.notExportable(file: "tokenizer_config.json", path: "$.model_max_length", message:
                    "model_max_length must be positive (got \(modelMaxLength)); pass the model's context length or nil")
            }
            config["model_max_length"] = .integer(modelMaxLength)
        }
        config["tokenizer_class"] = .string("PreTrainedTokenizerFast")
        let members = config.members.map { "\(JSONValue.quoted($0.key)): \($0.value.serialized())" }
        return Data((Tokenizer.lines(members, open: "{", close: "}", indent: "") + "\n").utf8)
    }

    /// Writes `tokenizer.json` and `tokenizer_config.json` into `directory` (created if missing), each written to
    /// a temporary file and renamed into place, so a reader never sees half a file.
    public func writeHuggingFace(to directory: String, chatTemplate: String?, modelMaxLength: Int? = nil) throws {
        let config = try huggingFaceConfigJSON(chatTemplate: chatTemplate, modelMaxLength: modelMaxLength)
        let files = [("tokenizer.json", try huggingFaceJSON()), ("tokenizer_config.json", config)]
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw TokenizerError.notExportable(file: directory, path: "$", message:
                "cannot create the directory (\(error.localizedDescription)); check the path and its permissions")
        }
        for (name, data) in files {
            let url = folder.appendingPathComponent(name)
            do { try data.write(to: url, options: .atomic) } catch {
                throw TokenizerError.notExportable(file: url.path, path: "$", message:
                    "cannot write the file (\(error.localizedDescription)); check free disk space and permissions")
            }
        }
    }

    /// `items` one per line between `open` and `close`, indented two spaces more than `indent`.
    private static func lines(_ items: [String], open: String, close: String, indent: String) -> String {
        guard !items.isEmpty else { return open + close }
        return open + "\n" + items.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n" + indent + close
    }
}
