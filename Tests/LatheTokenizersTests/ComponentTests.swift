import Foundation
import LatheFormats
import Testing
@testable import LatheTokenizers

/// Each pre-tokenizer and normalizer configuration against HF's `pre_tokenize_str` / `normalize_str`.
@Suite struct ComponentTests {
    private func load(_ name: String) throws -> JSONNode {
        try JSONNode.parse(try Data(contentsOf: try Fixtures.root.appendingPathComponent(name)), file: name)
    }

    @Test func preTokenizersMatchHuggingFace() throws {
        let root = try load("pretokenizers.json")
        let texts = try root.required("texts").array().map { try $0.string() }
        for (name, entry) in try root.required("pretokenizers").members() {
            let pre = try PreTokenizer.from(try entry.required("config"))
            let expected = try entry.required("pieces").array().map { try $0.array().map { try $0.string() } }
            for (text, want) in zip(texts, expected) {
                var pieces = Pieces(bytes: Array(text.utf8), atOrigin: true)
                pre.apply(&pieces)
                // HF shows ByteLevel pieces spelled in its byte alphabet; Lathe keeps raw bytes for the model.
                let got = pieces.pieces.map { piece -> String in
                    let bytes = pieces.bytes[piece.range]
                    return pre.isByteLevel ? ByteLevelAlphabet.spell(bytes) : String(decoding: bytes, as: UTF8.self)
                }
                #expect(got == want, "\(name): \(text.debugDescription)")
            }
        }
    }

    @Test func normalizersMatchHuggingFace() throws {
        let root = try load("normalizers.json")
        let texts = try root.required("texts").array().map { try $0.string() }
        for (name, entry) in try root.required("normalizers").members() {
            let normalizer = try Normalizer.from(try entry.required("config"))
            let expected = try entry.required("outputs").array().map { try $0.string() }
            for (text, want) in zip(texts, expected) {
                let got = normalizer.apply(text)
                #expect(Array(got.unicodeScalars) == Array(want.unicodeScalars), "\(name): \(text.debugDescription)")
            }
        }
    }
}
