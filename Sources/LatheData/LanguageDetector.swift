/// An offline language guess: the dominant Unicode script of the letters, and for Latin script a vote of
/// common function words among seven languages. Limits: Latin-script languages other than en, fr, de, es, it,
/// pt, nl come out as `latin` (or as a wrong neighbour for very short texts); Cyrillic, Arabic, Devanagari and
/// other shared scripts are reported as the script, not the language; Han without kana is reported `zh`.
public enum LanguageDetector {
    /// A guess with its confidence in 0…1 (share of letters in the script × share of the stop-word vote).
    public struct Guess: Sendable, Equatable {
        /// ISO 639-1 code (`en`, `ja`…) or a script name (`cyrillic`, `arabic`, `latin`, `unknown`).
        public var language: String
        /// Confidence in 0…1.
        public var score: Double
    }

    static let stopWords: [String: Set<String>] = [
        "en": ["the", "and", "of", "to", "is", "in", "that", "it", "was", "for", "with", "this", "are", "on", "you", "not", "be", "have", "from", "by"],
        "fr": ["le", "la", "les", "et", "des", "est", "une", "un", "du", "que", "dans", "pour", "pas", "qui", "sur", "avec", "ce", "il", "sont", "au"],
        "de": ["der", "die", "und", "das", "ist", "nicht", "ein", "eine", "zu", "den", "mit", "von", "sich", "auf", "für", "dem", "ich", "es", "auch", "wird"],
        "es": ["el", "la", "los", "las", "y", "que", "es", "una", "un", "por", "con", "para", "del", "se", "no", "al", "como", "pero", "su", "está"],
        "it": ["il", "di", "che", "è", "la", "per", "non", "una", "un", "sono", "del", "della", "con", "gli", "le", "si", "ho", "anche", "come", "questo"],
        "pt": ["o", "a", "os", "as", "que", "não", "uma", "um", "para", "com", "do", "da", "em", "se", "por", "mais", "ao", "dos", "é", "está"],
        "nl": ["de", "het", "een", "en", "van", "is", "dat", "niet", "op", "te", "met", "voor", "zijn", "er", "die", "ook", "maar", "aan", "ik", "wordt"],
    ]

    /// Every label `detect` can give: the languages of `stopWords`, the languages told by their script, the
    /// script names, and `other`/`unknown`. A language filter that allows anything else keeps nothing.
    public static let labels = stopWords.keys.sorted()
        + ["el", "he", "th", "ja", "ko", "zh", "latin", "cyrillic", "arabic", "devanagari", "other", "unknown"]

    /// Script of a letter, coarse.
    static func script(_ s: Unicode.Scalar) -> String? {
        let v = s.value
        switch v {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return "latin"
        case 0x370...0x3FF, 0x1F00...0x1FFF: return "el"
        case 0x400...0x52F: return "cyrillic"
        case 0x590...0x5FF: return "he"
        case 0x600...0x6FF, 0x750...0x77F: return "arabic"
        case 0x900...0x97F: return "devanagari"
        case 0xE00...0xE7F: return "th"
        case 0x3040...0x30FF: return "ja"
        case 0xAC00...0xD7AF, 0x1100...0x11FF: return "ko"
        case 0x4E00...0x9FFF, 0x3400...0x4DBF: return "han"
        default: return s.properties.isAlphabetic ? "other" : nil
        }
    }

    /// The guess for `text`.
    public static func detect(_ text: String, words: [Substring]) -> Guess {
        var counts: [String: Int] = [:]
        var letters = 0
        for s in text.unicodeScalars {
            guard let sc = script(s) else { continue }
            counts[sc, default: 0] += 1; letters += 1
        }
        guard letters > 0, let top = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else {
            return Guess(language: "unknown", score: 0)
        }
        let share = Double(top.value) / Double(letters)
        switch top.key {
        case "han": return Guess(language: (counts["ja"] ?? 0) > 0 ? "ja" : "zh", score: share)
        case "latin": break
        default: return Guess(language: top.key, score: share)
        }
        var votes: [String: Int] = [:]
        var total = 0
        for w in words.prefix(2000) {
            let lower = w.lowercased()
            var hit = false
            for (language, list) in stopWords where list.contains(lower) { votes[language, default: 0] += 1; hit = true }
            if hit { total += 1 }
        }
        guard total > 0, let best = votes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else {
            return Guess(language: "latin", score: share)
        }
        return Guess(language: best.key, score: share * Double(best.value) / Double(total))
    }
}

/// Keeps records whose detected language is in an allowed list with at least a minimum confidence.
public struct LanguageFilter: RecordFilter {
    /// Settings.
    public struct Config: Codable, Sendable, Equatable {
        /// Allowed codes from `LanguageDetector` (`en`, `de`, `cyrillic`…). Empty keeps everything.
        public var allowed: [String] = []
        /// Minimum confidence (web 0.5; instruction 0.3, since short texts vote on few words).
        public var minScore: Double
        /// Defaults for `kind`.
        public init(kind: DataKind = .web, allowed: [String] = []) {
            self.allowed = allowed
            minScore = kind == .web ? 0.5 : 0.3
        }
        enum CodingKeys: String, CodingKey { case allowed, minScore = "min_score" }
    }

    public let name = "language"
    /// Settings.
    public var config: Config
    /// Creates the filter.
    public init(_ config: Config) { self.config = config }

    public func check(_ document: FilterDocument) -> FilterVerdict {
        if config.allowed.isEmpty { return .keep }
        let guess = LanguageDetector.detect(document.text, words: document.words)
        if !config.allowed.contains(guess.language) {
            return .drop(RejectReason(code: "language_not_allowed",
                detail: "detected '\(guess.language)' (score \(round2(guess.score))), allowed: \(config.allowed.joined(separator: ", "))"))
        }
        if guess.score < config.minScore {
            return .drop(RejectReason(code: "language_low_confidence",
                detail: "detected '\(guess.language)' with score \(round2(guess.score)) < \(config.minScore)"))
        }
        return .keep
    }
}
