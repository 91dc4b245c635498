/// Drops records whose text is too short or too long, in characters (Unicode scalars), words, or tokens (when a token counter is
/// injected, e.g. the model's tokenizer).
public struct LengthFilter: RecordFilter {
    /// Bounds; nil disables a bound.
    public struct Config: Codable, Sendable, Equatable {
        /// Minimum characters (web: 200; instruction: 1).
        public var minChars: Int?
        /// Maximum characters (web: 1,000,000; instruction: 100,000).
        public var maxChars: Int?
        /// Minimum words (web: 50; instruction: 1).
        public var minWords: Int?
        /// Maximum words (web: 100,000; instruction: nil).
        public var maxWords: Int?
        /// Minimum tokens (default nil; needs a token counter).
        public var minTokens: Int?
        /// Maximum tokens (default nil; needs a token counter).
        public var maxTokens: Int?

        /// Defaults for `kind`.
        public init(kind: DataKind = .web) {
            switch kind {
            case .web: minChars = 200; maxChars = 1_000_000; minWords = 50; maxWords = 100_000
            case .instruction: minChars = 1; maxChars = 100_000; minWords = 1; maxWords = nil
            }
        }
        enum CodingKeys: String, CodingKey {
            case minChars = "min_chars", maxChars = "max_chars", minWords = "min_words", maxWords = "max_words"
            case minTokens = "min_tokens", maxTokens = "max_tokens"
        }
    }

    public let name = "length"
    /// The bounds.
    public var config: Config
    /// Counts tokens of a text; token bounds are ignored when nil.
    public var countTokens: (@Sendable (String) -> Int)?

    /// Creates the filter.
    public init(_ config: Config = Config(), countTokens: (@Sendable (String) -> Int)? = nil) {
        self.config = config
        self.countTokens = countTokens
    }

    public func check(_ document: FilterDocument) -> FilterVerdict {
        let chars = Words.scalarCount(document.text)
        if let min = config.minChars, chars < min { return drop("too_few_chars", "\(chars) characters, minimum \(min)") }
        if let max = config.maxChars, chars > max { return drop("too_many_chars", "\(chars) characters, maximum \(max)") }
        let words = document.whole.wordCount   // tokens that are not only punctuation or symbols
        if let min = config.minWords, words < min { return drop("too_few_words", "\(words) words, minimum \(min)") }
        if let max = config.maxWords, words > max { return drop("too_many_words", "\(words) words, maximum \(max)") }
        if let countTokens, config.minTokens != nil || config.maxTokens != nil {
            let tokens = countTokens(document.text)
            if let min = config.minTokens, tokens < min { return drop("too_few_tokens", "\(tokens) tokens, minimum \(min)") }
            if let max = config.maxTokens, tokens > max { return drop("too_many_tokens", "\(tokens) tokens, maximum \(max)") }
        }
        return .keep
    }

    private func drop(_ code: String, _ detail: String) -> FilterVerdict { .drop(RejectReason(code: code, detail: detail)) }
}
