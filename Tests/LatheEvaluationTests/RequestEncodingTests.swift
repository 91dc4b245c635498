import Foundation
import LatheTokenizers
import Testing
@testable import LatheEvaluation

/// Context/continuation splitting and rolling windows, against lm-eval run by Scripts/goldens/eval.py.
@Suite struct RequestEncodingTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    /// The SmolLM2 tokenizer fixture of the tokenizer tests, found from this file's path.
    static func smolTokenizer() throws -> Tokenizer {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return try Tokenizer.load(root.appendingPathComponent("LatheTokenizersTests/Fixtures/tokenizers/smollm2/tokenizer.json"))
    }

    @Test func pairsSplitAsLmEval() throws {
        let encoder = RequestEncoder(tokenizer: try Self.smolTokenizer(), maxLength: 8192, prefixToken: 1)
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("encode_pairs.json"))
        let rows = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(rows.count == 6)
        for row in rows {
            let (context, continuation) = encoder.encodePair(context: row["context"] as! String, continuation: row["continuation"] as! String)
            #expect(context.map(Int.init) == row["context_ids"] as! [Int], "\(row["context"]!)")
            #expect(continuation.map(Int.init) == row["continuation_ids"] as! [Int], "\(row["context"]!)")
        }
    }

    @Test func rollingWindowsAreDisjointAndCoverEveryToken() {
        // lm-eval: [make_disjoint_window(w) for w in get_rolling_token_windows(list(range(10, 21)), 1, 4, 1)]
        let windows = RequestEncoder.rollingWindows(Array(10...20), prefix: 1, maxLength: 4)
        #expect(windows.map(\.context) == [[1], [13], [16, 17]])
        #expect(windows.map(\.continuation) == [[10, 11, 12, 13], [14, 15, 16, 17], [18, 19, 20]])
        #expect(RequestEncoder.rollingWindows([5], prefix: 1, maxLength: 4).map(\.context) == [[1]])
        #expect(RequestEncoder.rollingWindows([], prefix: 1, maxLength: 4).isEmpty)
    }

    @Test func trailingWhitespaceMovesToTheContinuation() {
        #expect("ab \n\t".pythonRstripped() == "ab")
        #expect("a\r\n".pythonRstripped() == "a")
    }
}
