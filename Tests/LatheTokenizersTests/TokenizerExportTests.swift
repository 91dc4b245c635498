import Foundation
import LatheFormats
import Testing
@testable import LatheTokenizers

/// `tokenizer.json` + `tokenizer_config.json` written by Lathe and read back: the reloaded tokenizer must give
/// Hugging Face's golden ids and decodes, for tokenizers loaded from `tokenizer.json` and built from GGUF metadata.
@Suite struct TokenizerExportTests {
    /// GGUF metadata fixtures and the goldens transformers produced from the same GGUF.
    static let ggufCases = [("smollm2", "smollm2"), ("sentencepiece", "sentencepiece_gguf"), ("bytelevel", "bytelevel_gguf")]

    /// Writes `tokenizer` with `writeHuggingFace` into a fresh temporary directory and loads it back.
    static func roundTrip(_ tokenizer: Tokenizer, chatTemplate: String? = nil) throws -> Tokenizer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-tokexport-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try tokenizer.writeHuggingFace(to: dir.path, chatTemplate: chatTemplate)
        return try Tokenizer.load(dir)
    }

    /// Every golden row: ids three ways and decodes, against HF's values (not only against the original).
    static func expectGoldens(_ tokenizer: Tokenizer, _ goldens: String, _ label: String) throws {
        for row in try Fixtures.goldens(goldens) {
            let text = row.text.debugDescription
            #expect(tokenizer.encode(row.text, allowSpecial: true) == row.ids, "\(label): \(text)")
            #expect(tokenizer.encode(row.text) == row.ids_split, "\(label) split specials: \(text)")
            #expect(tokenizer.encode(row.text, addSpecialTokens: true, allowSpecial: true) == row.ids_with_special,
                    "\(label) with special tokens: \(text)")
            #expect(tokenizer.decode(row.ids) == row.decoded, "\(label) decode: \(text)")
            #expect(tokenizer.decode(row.ids, skipSpecialTokens: true) == row.decoded_skip_special,
                    "\(label) decode skipping specials: \(text)")
        }
    }

    /// What must survive the round trip apart from encoding: added tokens, special tokens, vocabulary, templates.
    static func expectSameSurface(_ reloaded: Tokenizer, _ original: Tokenizer, _ label: String) {
        #expect(reloaded.addedTokens.sorted { $0.id < $1.id } == original.addedTokens.sorted { $0.id < $1.id }, "\(label)")
        #expect(reloaded.vocabularySize == original.vocabularySize, "\(label)")
        #expect(reloaded.config.bosToken == original.config.bosToken, "\(label)")
        #expect(reloaded.config.eosToken == original.config.eosToken, "\(label)")
        #expect(reloaded.config.unkToken == original.config.unkToken, "\(label)")
        #expect(reloaded.config.padToken == original.config.padToken, "\(label)")
        #expect(reloaded.config.addBosToken == original.config.addBosToken, "\(label)")
        #expect(reloaded.config.addEosToken == original.config.addEosToken, "\(label)")
        #expect(reloaded.config.chatTemplates == original.config.chatTemplates, "\(label)")
        #expect(reloaded.bosTokenId == original.bosTokenId && reloaded.eosTokenId == original.eosTokenId, "\(label)")
    }

    @Test(arguments: Fixtures.tokenizerNames)
    func tokenizerJSONRoundTrips(_ name: String) throws {
        let original = try Fixtures.tokenizer(name)
        let reloaded = try Self.roundTrip(original)
        try Self.expectGoldens(reloaded, name, "\(name) exported")
        Self.expectSameSurface(reloaded, original, name)
        // Writing the reloaded tokenizer gives the same bytes: nothing drifts on a second round.
        #expect(try reloaded.huggingFaceJSON() == original.huggingFaceJSON(), "\(name)")
    }

    @Test(arguments: ggufCases)
    func ggufTokenizerRoundTrips(_ metadata: String, _ goldens: String) throws {
        let original = try Tokenizer(gguf: try Fixtures.ggufMetadata(metadata), file: "\(metadata).gguf")
        let reloaded = try Self.roundTrip(original)
        try Self.expectGoldens(reloaded, goldens, "\(metadata).gguf exported")
        Self.expectSameSurface(reloaded, original, metadata)
        #expect((reloaded.config.chatTemplate != nil) == (metadata != "bytelevel"))  // that GGUF has no template
        for id in Int32(0)..<Int32(original.vocabularySize) {
            #expect(reloaded.token(of: id) == original.token(of: id), "\(metadata) id \(id)")
            #expect(reloaded.isSpecial(id) == original.isSpecial(id), "\(metadata) id \(id)")
        }
    }

    @Test func smolLM2GGUFConfig() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.ggufMetadata("smollm2"), file: "smollm2.gguf")
        let data = try tokenizer.huggingFaceConfigJSON(chatTemplate: nil, modelMaxLength: 8192)
        let config = try JSONValue.parse(Array(data))
        #expect(config["bos_token"] == .string("<|im_start|>"))
        #expect(config["eos_token"] == .string("<|im_end|>"))
        #expect(config["pad_token"] == .string("<|im_end|>"))
        #expect(config["unk_token"] == .string("<|endoftext|>"))
        #expect(config["add_bos_token"] == .bool(false))
        #expect(config["model_max_length"] == .integer(8192))
        #expect(config["tokenizer_class"] == .string("PreTrainedTokenizerFast"))
        #expect(config["clean_up_tokenization_spaces"] == .bool(false))
        #expect(config["chat_template"]?.stringValue?.hasPrefix("{% for message in messages %}") == true)
    }

    @Test func chatTemplateArgumentReplacesTheDefault() throws {
        let byteLevel = try Fixtures.tokenizer("bytelevel")  // a default and a "tool_use" template
        let reloaded = try Self.roundTrip(byteLevel, chatTemplate: "{{ messages }}")
        #expect(reloaded.config.chatTemplate == "{{ messages }}")
        #expect(reloaded.config.chatTemplates["tool_use"] == "{{ tools }}")
        let split = try Fixtures.tokenizer("split")  // no template at all
        let config = try JSONValue.parse(Array(try split.huggingFaceConfigJSON(chatTemplate: nil)))
        #expect(config["chat_template"] == nil)
        #expect(config["bos_token"] == .null)
    }

    /// The exported smollm2 file is strict JSON (no duplicate keys, valid escapes) with HF's layout.
    @Test func smolLM2ExportIsStrictJSON() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.ggufMetadata("smollm2"), file: "smollm2.gguf")
        let data = try tokenizer.huggingFaceJSON()
        let root = try JSONValue.parse(Array(data))
        #expect(root.objectValue?.keys == ["version", "truncation", "padding", "added_tokens", "normalizer", "pre_tokenizer",
                                           "post_processor", "decoder", "model"])
        #expect(root["version"] == .string("1.0"))
        #expect(root["truncation"] == .null && root["padding"] == .null)
        let model = try #require(root["model"])
        #expect(model.objectValue?.keys == ["type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix",
                                            "fuse_unk", "byte_fallback", "ignore_merges", "vocab", "merges"])
        #expect(model["vocab"]?.objectValue?.count == 49152)
        let merges = try #require(model["merges"]?.arrayValue)
        #expect(merges.count == 48900)
        #expect(merges.first == .array([.string("Ġ"), .string("t")]))
        #expect(root["pre_tokenizer"]?["type"] == .string("ByteLevel"))
        #expect(root["added_tokens"]?.arrayValue?.first?["content"] == .string("<|endoftext|>"))
        #expect(try tokenizer.huggingFaceJSON() == data)  // deterministic
    }

    @Test func templateIdWithoutTokenIsAnError() throws {
        let base = try Fixtures.tokenizer("split")
        let broken = Tokenizer(normalizer: base.normalizer, preTokenizer: base.preTokenizer, model: base.model,
                               postProcessor: .TemplateProcessing(single: [.special([90_000]), .sequence]),
                               decoder: base.decoder, addedTokens: base.addedTokens, config: base.config)
        #expect {
            _ = try broken.huggingFaceJSON()
        } throws: { error in
            guard case TokenizerError.notExportable(_, let path, let message) = error else { return false }
            return path == "$.post_processor.single[0]" && message.contains("90000")
        }
    }
}
