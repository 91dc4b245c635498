/// The quality rules of Gopher (Rae et al. 2021, "Scaling Language Models", appendix A.1.1), with the exact
/// semantics of datatrove's `GopherQualityFilter`: words are counted without symbol-only tokens; `#` and
/// ellipsis counts are divided by all tokens; bullet/ellipsis fractions are over lines; the alphabetic-word
/// fraction is over all tokens; stop words must be present as whole tokens. For instruction records the rules
/// run on each field of at least `DocumentRules.minWords` words.
public struct GopherQualityFilter: DocumentRuleFilter {
    /// Thresholds; nil disables a rule. Web defaults are the paper's (and datatrove's).
    public struct Config: Codable, Sendable, Equatable {
        /// Texts with fewer words than this are kept unchecked (web 0; instruction 50, `DocumentRules.minWords`).
        public var minWords: Int
        /// Check each text field on its own rather than the joined record (web false; instruction true).
        public var eachField: Bool
        /// Minimum non-symbol words (web 50; instruction none: a one-line answer is a good answer).
        public var minDocWords: Int?
        /// Maximum non-symbol words (100,000).
        public var maxDocWords: Int?
        /// Minimum mean word length (3).
        public var minAvgWordLength: Double?
        /// Maximum mean word length (web 10; instruction 15, for identifiers in code).
        public var maxAvgWordLength: Double?
        /// Maximum `#`-to-word and ellipsis-to-word ratio (web 0.1; instruction 0.5, for code comments and markdown).
        public var maxSymbolWordRatio: Double?
        /// Maximum fraction of lines starting with a bullet `•` or `-` (0.9).
        public var maxBulletLinesRatio: Double?
        /// Maximum fraction of lines ending with an ellipsis (web 0.3; instruction 0.5).
        public var maxEllipsisLinesRatio: Double?
        /// Minimum fraction of words with at least one letter (web 0.8; instruction 0.5, for math and code).
        public var minAlphaWordsRatio: Double?
        /// Minimum number of distinct stop words present (web 2; instruction nil).
        public var minStopWords: Int?
        /// The stop words (Gopher's eight English words).
        public var stopWords: [String]

        /// Defaults for `kind`.
        public init(kind: DataKind = .web) {
            minWords = kind == .web ? 0 : DocumentRules.minWords
            eachField = kind == .instruction
            minDocWords = kind == .web ? 50 : nil
            maxDocWords = 100_000
            minAvgWordLength = 3
            maxAvgWordLength = kind == .web ? 10 : 15
            maxSymbolWordRatio = kind == .web ? 0.1 : 0.5
            maxBulletLinesRatio = 0.9
            maxEllipsisLinesRatio = kind == .web ? 0.3 : 0.5
            minAlphaWordsRatio = kind == .web ? 0.8 : 0.5
            minStopWords = kind == .web ? 2 : nil
            stopWords = ["the", "be", "to", "of", "and", "that", "have", "with"]
        }
        enum CodingKeys: String, CodingKey {
            case minDocWords = "min_doc_words", maxDocWords = "max_doc_words"
            case minAvgWordLength = "min_avg_word_length", maxAvgWordLength = "max_avg_word_length"
            case maxSymbolWordRatio = "max_symbol_word_ratio", maxBulletLinesRatio = "max_bullet_lines_ratio"
            case maxEllipsisLinesRatio = "max_ellipsis_lines_ratio", minAlphaWordsRatio = "min_alpha_words_ratio"
            case minStopWords = "min_stop_words", stopWords = "stop_words", minWords = "min_words", eachField = "each_field"
        }
    }

    public let name = "gopher_quality"
    /// Thresholds.
    public var config: Config
    /// Creates the filter.
    public init(_ config: Config = Config()) { self.config = config }

    /// Which texts of a record the rules see.
    public var scope: (eachField: Bool, minWords: Int) { (config.eachField, config.minWords) }

    /// The rules on one text.
    public func check(_ unit: FilterText) -> FilterVerdict {
        let words = unit.words
        let text = unit.text
        let n = unit.wordCount   // tokens that are not only punctuation or symbols
        if let min = config.minDocWords, n < min { return drop("gopher_short_doc", "\(n) words, minimum \(min)") }
        if let max = config.maxDocWords, n > max { return drop("gopher_long_doc", "\(n) words, maximum \(max)") }
        guard !words.isEmpty else { return .keep }
        if n > 0 {
            var characters = 0
            for word in words where !Words.isSymbolOnly(word) { characters += Words.scalarCount(word) }
            let mean = Double(characters) / Double(n)
            if let min = config.minAvgWordLength, mean < min { return drop("gopher_below_avg_threshold", "mean word length \(round2(mean)) < \(min)") }
            if let max = config.maxAvgWordLength, mean > max { return drop("gopher_above_avg_threshold", "mean word length \(round2(mean)) > \(max)") }
        }
        let total = Double(words.count)
        if let max = config.maxSymbolWordRatio {
            let hashes = Double(text.utf8.lazy.filter { $0 == UInt8(ascii: "#") }.count) / total
            if hashes > max { return drop("gopher_too_many_hashes", "'#' per word \(round2(hashes)) > \(max)") }
            let ellipses = Double(count("...", in: text) + count("…", in: text)) / total
            if ellipses > max { return drop("gopher_too_many_ellipsis", "ellipses per word \(round2(ellipses)) > \(max)") }
        }
        let lines = Words.lines(text)
        if !lines.isEmpty {
            if let max = config.maxBulletLinesRatio {
                let bullets = lines.filter { let t = $0.drop { $0.isWhitespace }; return t.hasPrefix("•") || t.hasPrefix("-") }.count
                let r = Double(bullets) / Double(lines.count)
                if r > max { return drop("gopher_too_many_bullets", "\(round2(r)) of lines start with a bullet, maximum \(max)") }
            }
            if let max = config.maxEllipsisLinesRatio {
                let ending = lines.filter { let t = trimTrailing($0); return t.hasSuffix("...") || t.hasSuffix("…") }.count
                let r = Double(ending) / Double(lines.count)
                if r > max { return drop("gopher_too_many_end_ellipsis", "\(round2(r)) of lines end with an ellipsis, maximum \(max)") }
            }
        }
        if let min = config.minAlphaWordsRatio {
            var lettered = 0
            for word in words where Words.hasLetter(word) { lettered += 1 }
            let alpha = Double(lettered) / Double(total)
            if alpha < min { return drop("gopher_below_alpha_threshold", "\(round2(alpha)) of words have a letter, minimum \(min)") }
        }
        if let min = config.minStopWords {
            let found = StopWords(config.stopWords).distinct(in: words)
            if found < min { return drop("gopher_enough_stop_words", "\(found) distinct stop words, minimum \(min)") }
        }
        return .keep
    }

    private func drop(_ code: String, _ detail: String) -> FilterVerdict { .drop(RejectReason(code: code, detail: detail)) }
}

func round2(_ x: Double) -> Double { (x * 100).rounded() / 100 }

func trimTrailing(_ s: Substring) -> Substring {
    var end = s.endIndex
    while end > s.startIndex, s[s.index(before: end)].isWhitespace { end = s.index(before: end) }
    return s[s.startIndex..<end]
}

/// A stop-word list matched as `Set<Substring>` matches (canonical equivalence), with a byte comparison for ASCII
/// words against ASCII entries (two ASCII strings are canonically equivalent only when their bytes are equal).
struct StopWords {
    /// The distinct entries (by canonical equivalence), in list order.
    private let entries: [String]
    private let ascii: [[UInt8]?]

    init(_ list: [String]) {
        var seen: Set<String> = []
        entries = list.filter { seen.insert($0).inserted }
        ascii = entries.map { $0.utf8.allSatisfy { $0 < 0x80 } ? Array($0.utf8) : nil }
    }

    /// Distinct entries that occur among `words` (Gopher's stop-word rule).
    func distinct(in words: [Substring]) -> Int {
        var found = [Bool](repeating: false, count: entries.count)
        for word in words {
            let match = word.utf8.withContiguousStorageIfAvailable { bytes -> Int? in
                guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
                // An ASCII word equals an entry only by its bytes; a non-ASCII entry can still be its equivalent.
                return entries.indices.first { e in ascii[e].map { $0.count == bytes.count && $0.elementsEqual(bytes) } ?? (entries[e] == word) } ?? -1
            }
            let e = match.flatMap { $0 } ?? entries.firstIndex { $0 == word } ?? -1
            if e >= 0 { found[e] = true }
        }
        return found.lazy.filter { $0 }.count
    }
}

/// Non-overlapping occurrences of an ASCII `needle` in `text` (Python's `str.count`).
func count(_ needle: String, in text: String) -> Int {
    let n = Array(needle.utf8)
    var found = 0
    var text = text
    text.withUTF8 { buf in
        var i = 0
        while i + n.count <= buf.count {
            if buf[i] == n[0] && (1..<n.count).allSatisfy({ buf[i + $0] == n[$0] }) { found += 1; i += n.count } else { i += 1 }
        }
    }
    return found
}
