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

    /// A duplicate key used to be resolved silently (the last value won); it is now an error naming the key and
    /// the byte offset of its second occurrence.
    @Test func duplicateKeyIsAnErrorNamingKeyAndOffset() {
        let text = #"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "a": 2}, "merges": []}}"#
        let offset = text.utf8.count - #""a": 2}, "merges": []}}"#.utf8.count   // the second "a"
        #expect {
            _ = try Tokenizer(json: Data(text.utf8), file: "t.json")
        } throws: { error in
            guard case TokenizerError.malformed(let file, let path, let message) = error else { return false }
            return file == "t.json" && path == "$" && message.contains("duplicate key \"a\"") && message.contains("(byte \(offset))")
        }
    }

    /// "é" and "e" + U+0301 are different tokens; keys are compared by bytes, so both load.
    @Test func canonicallyEquivalentTokensStayDistinct() throws {
        let text = "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\u{E9}\": 0, \"e\u{301}\": 1}, \"merges\": []}}"
        let tokenizer = try Tokenizer(json: Data(text.utf8), file: "t.json")
        #expect(tokenizer.token(of: 0) == "\u{E9}")
        #expect(tokenizer.token(of: 1).map { Array($0.utf8) } == Array("e\u{301}".utf8))
    }

    @Test func nestingOverTheLimitIsAnError() {
        let deep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect {
            _ = try Tokenizer(json: Data(#"{"model": \#(deep)}"#.utf8), file: "t.json")
        } throws: { error in
            guard case TokenizerError.malformed(_, _, let message) = error else { return false }
            return message.contains("nesting deeper than 128")
        }
    }
}
