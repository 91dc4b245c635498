import Foundation
import LatheFormats

extension Tokenizer {
    /// The tokenizer of the model at `path` — the one answer to that question for the CLI, the recipe stages,
    /// evaluation and `LoadedModel.tokenizer()`:
    /// - a directory: its `tokenizer.json` (with `tokenizer_config.json` and `chat_template.jinja` beside it);
    /// - a `.json` file: that `tokenizer.json` (with the files beside it);
    /// - any other file: a GGUF model, from its `tokenizer.ggml.*` metadata.
    ///
    /// `ggufMetadata`, when the caller has already parsed the GGUF file at `path`, saves reading it again.
    public static func forModel(at path: String, ggufMetadata: [String: GGUFValue]? = nil) throws -> Tokenizer {
        if let ggufMetadata { return try Tokenizer(gguf: ggufMetadata, file: path) }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if exists, !isDirectory.boolValue, !path.lowercased().hasSuffix(".json") {
            return try Tokenizer(gguf: try GGUFFile(path: path).metadata, file: path)
        }
        return try load(URL(fileURLWithPath: path))
    }
}
