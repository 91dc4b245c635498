import LatheTokenizers

extension LoadedModel {
    /// The model's own tokenizer (`Tokenizer.forModel(at:)`, reusing the GGUF metadata already read).
    public func tokenizer() throws -> Tokenizer {
        try Tokenizer.forModel(at: path, ggufMetadata: ggufMetadata)
    }

    /// The tokenizer of this base with `adapter` applied: the tokens the adapter adds (`TokenRows.newTokens`) appended
    /// after the model's vocabulary, as the merged model's vocabulary has them.
    public func tokenizer(for adapter: LoRAAdapter?) throws -> Tokenizer {
        try tokenizer().adding(newTokens: adapter?.tokens?.newTokens ?? [], firstId: config.vocabSize)
    }
}
