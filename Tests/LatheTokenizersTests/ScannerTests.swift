import Foundation
import Testing
@testable import LatheTokenizers

/// The hand-written scanners split exactly as the general regex engine does.
@Suite struct ScannerTests {
    static let texts: [String] = [
        "Hello, world! How's it going? I'M FINE, THEY'LL SAY WE'D'VE 'quoted' ''s '",
        "  leading   spaces\tand\t\ttabs  \n\n  x \r\n\r\n  y\n",
        "Привет, мир! Καλημέρα κόσμε; مرحبا بالعالم؟ שלום עולם नमस्ते दुनिया สวัสดีชาวโลก",
        "你好，世界！東京タワー 안녕하세요 세계",
        "emoji 👍🏽 family 👨‍👩‍👧‍👦 flag 🇫🇷 ❤️",
        "e\u{301} a\u{308} n\u{303} ﬁ ＡＢＣ１２３ ① ½ ² ١٢٣ ५६७",
        "def f(x):\n    return x**2 + 1_000_000  # comment\n\tif (a&&b) { c->d; }",
        "1234567890 3.14159 1,000,000 2024-01-15 0x1F 99999999999",
        "x\u{3000}\u{3000}y\u{a0}\u{a0}z \u{2028} w\u{200b}v",
        "it'ſ 'S 'Ll 'rE", "   ", "\n", "a", "' ", "!!!???...", " !x", "\r\n\r\n", "word\n", "  \t  word",
    ]

    /// `fast` and `general` split every text of `corpus` into the same byte ranges.
    func expectSameSplits(_ fast: TokenRegex, _ general: TokenRegex, _ corpus: [String],
                          sourceLocation: SourceLocation = #_sourceLocation) {
        for text in corpus {
            var a = [Range<Int>](), b = [Range<Int>]()
            Array(text.utf8).withUnsafeBufferPointer { p in
                fast.matches(p, 0, p.count, into: &a)
                general.matches(p, 0, p.count, into: &b)
            }
            #expect(a == b, "\(text.debugDescription)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [TokenRegex.gpt2Pattern, TokenRegex.llama3Pattern, TokenRegex.qwen2Pattern])
    func scannerEqualsRegex(_ pattern: String) throws {
        let fast = try TokenRegex(pattern), general = try TokenRegex(pattern, fast: false)
        #expect(fast.isFast && !general.isFast)
        var corpus = ScannerTests.texts
        corpus.append(ScannerTests.texts.joined(separator: " "))
        expectSameSplits(fast, general, corpus)
    }

    /// Deterministic random strings over characters at the edges of the classes.
    static func randomTexts(count: Int) -> [String] {
        let pieces = ["a", "Z", "'", "s", "S", "t", "re", "VE", "ll", "D", " ", "  ", "\t", "\n", "\r", "\r\n", "1", "234", ".",
                      "!?", "_", "-", "\u{301}", "\u{a0}", "\u{3000}", "ſ", "²", "①", "Ⅻ", "👍", "🏽", "\u{200d}", "\u{200b}",
                      "\u{feff}", "\u{0b}", "\u{85}", "\u{2028}", "ß", "İ", "ж", "中", "한", "ا", "\u{915}", "\u{94d}", "▁", "٣"]
        var state: UInt64 = 0x5eed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        return (0..<count).map { _ in (0..<(1 + next() % 40)).map { _ in pieces[next() % pieces.count] }.joined() }
    }

    @Test(arguments: [TokenRegex.gpt2Pattern, TokenRegex.llama3Pattern, TokenRegex.qwen2Pattern])
    func scannerEqualsRegexOnRandomText(_ pattern: String) throws {
        let fast = try TokenRegex(pattern), general = try TokenRegex(pattern, fast: false)
        expectSameSplits(fast, general, ScannerTests.randomTexts(count: 500))
    }

    @Test func llamaCppSpellingIsRecognised() throws {
        let tail = TokenRegex.llama3Pattern.dropFirst("(?i:'s|'t|'re|'ve|'m|'ll|'d)".count)
        let regex = try TokenRegex(TokenRegex.llamaCppContractions + tail)
        #expect(regex.isFast)
        let general = try TokenRegex(TokenRegex.llamaCppContractions + tail, fast: false)
        expectSameSplits(regex, general, ScannerTests.texts)
    }

    /// A 100 KB pre-token merges through the priority queue in well under a second even in debug builds.
    @Test func longWordEncodes() throws {
        let tokenizer = try Fixtures.tokenizer("bytelevel")
        let word = String(repeating: "abcdefghij", count: 10_000)
        let ids = tokenizer.encode(word)
        #expect(!ids.isEmpty)
        #expect(tokenizer.decode(ids) == word)
    }
}
