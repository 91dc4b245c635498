import Foundation
import Testing
@testable import LatheTokenizers

/// Ids and decoded text against Hugging Face `tokenizers` for every golden text and tokenizer.
/// `ids` were produced by HF with added special tokens matched (HF's default) and are compared with
/// `allowSpecial: true`; `ids_split` were produced with HF `encode_special_tokens = True`
/// (transformers' `split_special_tokens=True`) and are compared with Lathe's default.
@Suite struct GoldenTests {
    @Test(arguments: Fixtures.tokenizerNames)
    func idsMatchHuggingFace(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for row in try Fixtures.goldens(name) {
            #expect(tokenizer.encode(row.text, allowSpecial: true) == row.ids, "\(name): \(row.text.debugDescription)")
            #expect(tokenizer.encode(row.text) == row.ids_split, "\(name) split specials: \(row.text.debugDescription)")
            #expect(tokenizer.encode(row.text, addSpecialTokens: true, allowSpecial: true) == row.ids_with_special,
                    "\(name) with special tokens: \(row.text.debugDescription)")
        }
    }

    @Test(arguments: Fixtures.tokenizerNames)
    func decodeMatchesHuggingFace(_ name: String) throws {
        let tokenizer = try Fixtures.tokenizer(name)
        for row in try Fixtures.goldens(name) {
            #expect(tokenizer.decode(row.ids) == row.decoded, "\(name): \(row.text.debugDescription)")
            #expect(tokenizer.decode(row.ids, skipSpecialTokens: true) == row.decoded_skip_special,
                    "\(name) skipping specials: \(row.text.debugDescription)")
        }
    }

    @Test func configAndChatTemplate() throws {
        let smol = try Fixtures.tokenizer("smollm2")
        #expect(smol.config.bosToken == "<|im_start|>")
        #expect(smol.config.eosToken == "<|im_end|>")
        #expect(smol.eosTokenId == 2)
        #expect(smol.config.chatTemplate?.contains("<|im_start|>") == true)
        let byteLevel = try Fixtures.tokenizer("bytelevel")
        #expect(byteLevel.config.chatTemplates["tool_use"] == "{{ tools }}")
        #expect(byteLevel.config.addBosToken == true)
        #expect(byteLevel.bosTokenId == byteLevel.id(of: "<|begin_of_text|>"))
    }
}
