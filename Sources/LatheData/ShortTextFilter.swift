/// Sanity rules for the short fields of instruction records, where the Gopher rules do not apply (fields under
/// `DocumentRules.minWords` words, see `GopherQualityFilter`): each rule looks at one field and does not depend on
/// its length, so a one-word answer ("4", "No.") or an answer restating its question passes, while the junk a chat
/// export collects does not — an answer of only symbols ("!!! ###", "?"), letter spam ("zzzzzzzz…"), a phrase
/// repeated over the whole field ("buy now buy now buy now…").
public struct ShortTextFilter: RecordFilter {
    /// Rules; nil disables one.
    public struct Config: Codable, Sendable, Equatable {
        /// Fields with at least this many words are left to the Gopher rules (50, `DocumentRules.minWords`).
        public var maxWords = DocumentRules.minWords
        /// Every non-empty field must hold at least one word, not only punctuation or symbols (true).
        public var requireWord = true
        /// Longest run of one letter repeated inside a word (4): English needs at most 3 ("Brrr", "www").
        public var maxLetterRun: Int? = 4
        /// Minimum share of distinct words (case-folded) in a field of at least `distinctMinWords` words (0.3).
        public var minDistinctWordRatio: Double? = 0.3
        /// Fields shorter than this are not held to `minDistinctWordRatio` (6: "No, no, no." is an answer).
        public var distinctMinWords = 6

        /// The defaults.
        public init() {}
        enum CodingKeys: String, CodingKey {
            case maxWords = "max_words", requireWord = "require_word", maxLetterRun = "max_letter_run"
            case minDistinctWordRatio = "min_distinct_word_ratio", distinctMinWords = "distinct_min_words"
        }
    }

    public let name = "short_text"
    /// Rules.
    public var config: Config
    /// Creates the filter.
    public init(_ config: Config = Config()) { self.config = config }

    public func check(_ document: FilterDocument) -> FilterVerdict {
        for field in document.fields where field.wordCount < config.maxWords {
            if case .drop(let reason) = check(field) { return .drop(reason.located(field, in: document)) }
        }
        return .keep
    }

    /// The rules on one field.
    private func check(_ field: FilterText) -> FilterVerdict {
        if config.requireWord, field.wordCount == 0 {
            return drop("no_words", "only punctuation or symbols: \"\(field.text.prefix(40))\"")
        }
        if let limit = config.maxLetterRun, let word = field.words.first(where: { Self.letterRun($0) > limit }) {
            return drop("letter_run", "\"\(word.prefix(24))\" repeats one letter \(Self.letterRun(word)) times, maximum \(limit)")
        }
        if let min = config.minDistinctWordRatio, field.wordCount >= config.distinctMinWords {
            let words = field.words.filter { !Words.isSymbolOnly($0) }
            let distinct = Set(words.map { $0.lowercased() }).count
            let ratio = Double(distinct) / Double(words.count)
            if ratio < min {
                return drop("repeated_words", "\(distinct) distinct of \(words.count) words (\(round2(ratio))), minimum share \(min)")
            }
        }
        return .keep
    }

    /// The longest run of one letter (case-folded) in `word`.
    static func letterRun(_ word: Substring) -> Int {
        var longest = 0, run = 0
        var previous: Unicode.Scalar?
        for scalar in word.unicodeScalars {
            guard Words.isLetter(scalar) else { run = 0; previous = nil; continue }
            let folded = scalar.value < 0x80 ? Unicode.Scalar(UInt8(scalar.value) | 0x20)
                : scalar.properties.lowercaseMapping.unicodeScalars.first ?? scalar
            run = folded == previous ? run + 1 : 1
            previous = folded
            longest = max(longest, run)
        }
        return longest
    }

    private func drop(_ code: String, _ detail: String) -> FilterVerdict { .drop(RejectReason(code: code, detail: detail)) }
}
