import Foundation
import Testing
@testable import LatheTokenizers

/// Malformed tokenizers fail with errors that name the file, the JSON path and the problem.
@Suite struct ErrorTests {
    private func json(pre: String = "null", merges: String = #"[["a", "b"]]"#) -> Data {
        Data(#"{"added_tokens": [], "normalizer": null, "pre_tokenizer": \#(pre), "post_processor": null, "decoder": null,"#
            .appending(#" "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": \#(merges)}}"#).utf8)
    }

    @Test func unknownComponentNamesTypeAndPath() {
        #expect(throws: TokenizerError.unsupportedComponent(file: "t.json", path: "$.pre_tokenizer.pretokenizers[1].type",
                                                           type: "UnicodeScripts")) {
            _ = try Tokenizer(json: json(pre: #"{"type": "Sequence", "pretokenizers": [{"type": "Whitespace"}, {"type": "UnicodeScripts"}]}"#),
                              file: "t.json")
        }
    }

    @Test func mergeNamingMissingToken() {
        #expect {
            _ = try Tokenizer(json: json(merges: #"["a b", "a c"]"#), file: "t.json")
        } throws: { error in
            guard case TokenizerError.unknownToken(let file, let message) = error else { return false }
            return file == "t.json" && message.contains("merge #1") && message.contains("\"c\"")
        }
    }

    @Test func mergesAsStringsOrPairs() throws {
        let a = try Tokenizer(json: json(merges: #"["a b"]"#))
        let b = try Tokenizer(json: json(merges: #"[["a", "b"]]"#))
        #expect(a.encode("abab") == [2, 2])
        #expect(b.encode("abab") == [2, 2])
    }

    @Test func wrongTypeNamesPath() {
        #expect(throws: TokenizerError.malformed(file: "t.json", path: "$.pre_tokenizer.individual_digits", message: "expected true or false, found a string")) {
            _ = try Tokenizer(json: json(pre: #"{"type": "Digits", "individual_digits": "yes"}"#), file: "t.json")
        }
    }

    @Test func hostileJSONIsAnErrorNotACrash() {
        for text in [String(repeating: "[", count: 100_000), "{\"model\": \"\\ud800\"}", "{\"a\": tru", "\"abc", "[1, 2,]"] {
            #expect(throws: TokenizerError.self) { _ = try Tokenizer(json: Data(text.utf8), file: "t.json") }
        }
    }

    @Test func notJSON() {
        #expect(throws: TokenizerError.self) { _ = try Tokenizer(json: Data("{".utf8), file: "t.json") }
    }
}
