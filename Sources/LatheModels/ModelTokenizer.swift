import LatheTokenizers

extension LoadedModel {
    /// The model's own tokenizer (`Tokenizer.forModel(at:)`, reusing the GGUF metadata already read).
    public func tokenizer() throws -> Tokenizer {
        try Tokenizer.forModel(at: path, ggufMetadata: ggufMetadata)
    }
}
