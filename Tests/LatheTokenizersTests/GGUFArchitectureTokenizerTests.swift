import Foundation
import LatheFormats
import Testing
@testable import LatheTokenizers

/// GGUF vocabularies whose `general.architecture` changes what transformers builds from them, against
/// transformers' `from_pretrained(gguf_file:)` on the same file (goldens: Scripts/goldens/tokenizers.py).
@Suite struct GGUFArchitectureTokenizerTests {
    /// Every golden row, and enough of them to cover the vocabulary's cases.
    func expectGoldens(_ tokenizer: Tokenizer, _ name: String) throws {
        #expect(try Fixtures.expectMatchesGoldens(tokenizer, name) > 100)
    }

    /// A byte-level vocabulary in a GGUF of architecture qwen2 with pre `qwen2`: Qwen's split regex and no NFC.
    @Test func qwen2ByteLevelMatchesTransformers() throws {
        let metadata = try Fixtures.ggufMetadata("bytelevel_qwen2")
        #expect(metadata["general.architecture"]?.string == "qwen2")
        let tokenizer = try Tokenizer(gguf: metadata, file: "bytelevel_qwen2.gguf")
        #expect(tokenizer.normalizer == nil)
        try expectGoldens(tokenizer, "bytelevel_qwen2_gguf")
    }

    /// "e" + U+0301 and the precomposed "é" are canonically equivalent (Swift's `==` says so) but not the same
    /// bytes; transformers' GGUF tokenizer keeps them apart, so Lathe must too.
    @Test func qwen2GGUFDoesNotComposeAccents() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.ggufMetadata("bytelevel_qwen2"), file: "bytelevel_qwen2.gguf")
        let decomposed = "cafe\u{301}", precomposed = "caf\u{E9}"
        #expect(Array(decomposed.utf8) != Array(precomposed.utf8))
        #expect(tokenizer.encode(decomposed) != tokenizer.encode(precomposed))
        #expect(Array(tokenizer.decode(tokenizer.encode(decomposed)).utf8) == Array(decomposed.utf8))
        let row = try #require(try Fixtures.goldens("bytelevel_qwen2_gguf").first { $0.text.unicodeScalars.contains("\u{301}") })
        #expect(tokenizer.encode(row.text, allowSpecial: true) == row.ids)
    }

    /// A SentencePiece-style vocabulary in a GGUF of architecture phi3: the prefix space comes from a normalizer
    /// (`Prepend("▁")` + `Replace(" ", "▁")`, no pre-tokenizer), which differs from `Metaspace` on text that
    /// starts with a space and around added tokens.
    @Test func phi3SentencePieceMatchesTransformers() throws {
        let metadata = try Fixtures.ggufMetadata("sentencepiece_phi3")
        #expect(metadata["general.architecture"]?.string == "phi3")
        let tokenizer = try Tokenizer(gguf: metadata, file: "sentencepiece_phi3.gguf")
        try expectGoldens(tokenizer, "sentencepiece_phi3_gguf")
        let llama = try Tokenizer(gguf: try Fixtures.ggufMetadata("sentencepiece"), file: "sentencepiece.gguf")
        let text = "  leading spaces and trailing   "
        #expect(tokenizer.encode(text) != llama.encode(text))
    }

    /// The same vocabulary in a GGUF of architecture gemma3 (with Gemma's <pad> <eos> <bos> <mask> control tokens):
    /// GemmaTokenizer's normalizer, split and decoder, `<unk>` as the unknown token.
    @Test func gemma3SentencePieceMatchesTransformers() throws {
        let metadata = try Fixtures.ggufMetadata("sentencepiece_gemma3")
        #expect(metadata["general.architecture"]?.string == "gemma3")
        let tokenizer = try Tokenizer(gguf: metadata, file: "sentencepiece_gemma3.gguf")
        try expectGoldens(tokenizer, "sentencepiece_gemma3_gguf")
        #expect(tokenizer.decode(tokenizer.encode(" hi")) == " hi")
    }
}
