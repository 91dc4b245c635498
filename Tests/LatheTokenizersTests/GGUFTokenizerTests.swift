import Foundation
import LatheFormats
import Testing
@testable import LatheTokenizers

/// Tokenizers built from GGUF metadata against the tokenizer transformers builds from the same GGUF.
@Suite struct GGUFTokenizerTests {
    /// SmolLM2-135M-Instruct's GGUF vocabulary (`gpt2`, pre `smollm`) against transformers' `from_pretrained(gguf_file:)`.
    @Test func smolLM2MatchesTransformers() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.ggufMetadata("smollm2"), file: "smollm2.gguf")
        try Fixtures.expectMatchesGoldens(tokenizer, "smollm2")
        #expect(tokenizer.config.eosToken == "<|im_end|>")
        #expect(tokenizer.config.addBosToken == false)
        #expect(tokenizer.config.chatTemplate?.hasPrefix("{% for message in messages %}") == true)
    }

    /// A SentencePiece-style vocabulary (`llama`: scores, byte tokens, merges) written as a GGUF and read by transformers.
    @Test func sentencePieceMatchesTransformers() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.ggufMetadata("sentencepiece"), file: "sentencepiece.gguf")
        try Fixtures.expectMatchesGoldens(tokenizer, "sentencepiece_gguf")
        #expect(tokenizer.config.addBosToken == true)
        #expect(tokenizer.config.bosToken == "<s>")
    }

    /// A byte-level vocabulary with `tokenizer.ggml.pre = llama-bpe` (Llama 3 split regex) and control and
    /// user-defined tokens, written as a GGUF and read by transformers.
    @Test func llamaBPEMatchesTransformers() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.ggufMetadata("bytelevel"), file: "bytelevel.gguf")
        try Fixtures.expectMatchesGoldens(tokenizer, "bytelevel_gguf")
    }

    /// Merges derived from scores when the file has none give the same ids here (scores follow merge order).
    @Test func mergesFromScores() throws {
        var metadata = try Fixtures.ggufMetadata("sentencepiece")
        metadata["tokenizer.ggml.merges"] = nil
        let derived = try Tokenizer(gguf: metadata)
        let listed = try Tokenizer(gguf: try Fixtures.ggufMetadata("sentencepiece"))
        for text in ["Hello world", "The hospital's records were exported.", "naïve café 123"] {
            #expect(derived.encode(text).count >= listed.encode(text).count)
            #expect(derived.decode(derived.encode(text)) == text)
        }
    }

    @Test func specialIdBeyondTokensIsAnError() throws {
        var metadata = try Fixtures.ggufMetadata("sentencepiece")
        metadata["tokenizer.ggml.eos_token_id"] = .uint32(70_000)
        #expect {
            _ = try Tokenizer(gguf: metadata, file: "bad.gguf")
        } throws: { error in
            guard case TokenizerError.unknownToken(let file, let message) = error else { return false }
            return file == "bad.gguf" && message.contains("eos_token_id = 70000") && message.contains("beyond")
        }
    }

    @Test func unknownTokenizerModelIsAnError() throws {
        var metadata = try Fixtures.ggufMetadata("sentencepiece")
        metadata["tokenizer.ggml.model"] = .string("bert")
        #expect(throws: TokenizerError.unsupportedComponent(file: "x.gguf", path: "tokenizer.ggml.model", type: "bert")) {
            _ = try Tokenizer(gguf: metadata, file: "x.gguf")
        }
    }

    @Test func preTokenizerNamesMapToRegexes() {
        #expect(ggufPreTokenizerSplits["llama-bpe"] == TokenRegex.llama3Pattern)
        #expect(ggufPreTokenizerSplits["qwen2"] == TokenRegex.qwen2Pattern)
        #expect(ggufPreTokenizerSplits["smollm"] == nil)  // GPT-2's ByteLevel regex, as transformers builds it
        #expect(ggufPreTokenizerSplits["default"] == nil)
    }
}
