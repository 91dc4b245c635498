import Foundation
import LatheTokenizers

extension LoadedModel {
    /// The model's own tokenizer: from the GGUF's `tokenizer.ggml.*` metadata, or the directory's
    /// `tokenizer.json` (+ `tokenizer_config.json`).
    public func tokenizer() throws -> Tokenizer {
        if let metadata = ggufMetadata { return try Tokenizer(gguf: metadata, file: path) }
        return try Tokenizer.load(URL(fileURLWithPath: path))
    }
}
