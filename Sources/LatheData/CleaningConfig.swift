/// Everything the cleaning stage does, with documented defaults. `nil` for a step's settings turns it off.
public struct CleaningConfig: Codable, Sendable {
    /// Record format; nil detects it per record (default nil).
    public var format: RecordFormat?
    /// Field remapping, canonical → input key (e.g. `prompt: question`) (default none).
    public var fields: [String: String] = [:]
    /// Text folders: one record per file or per paragraph (default file).
    public var textMode: TextFolderMode = .file
    /// Largest record (line, row or text file) read, in bytes; larger ones are rejected (default 16 MiB).
    public var maxRecordBytes = 16 << 20
    /// A run aborts when more than this fraction of an input's lines are unreadable (default 0.1)…
    public var maxBadFraction = 0.1
    /// …once at least this many lines of it were read (default 100).
    public var minLinesForBadFraction = 100
    /// Unicode and whitespace normalisation.
    public var normalization = TextNormalizer.Config()
    /// PII redaction (default: all types). Runs before the filters so rejected records are redacted too.
    public var pii: PIIRedactor.Config? = PIIRedactor.Config()
    /// Filter rules forced on every record; nil (default, `--kind auto`) picks them per record from its format
    /// (`DataKind.of`): `documentFilters` for plain text, `instructionFilters` for chat, prompt/completion, alpaca.
    public var kind: DataKind?
    /// Filters for documents (web defaults).
    public var documentFilters = FilterSet(kind: .web)
    /// Filters for instruction and chat records (instruction defaults).
    public var instructionFilters = FilterSet(kind: .instruction)
    /// Drop records whose normalised text repeats an earlier record exactly (default true).
    public var exactDedup = true
    /// MinHash near-duplicate removal (default on, 5-grams, 14 bands × 8 rows, candidates confirmed at Jaccard 0.8).
    public var minHash: MinHash.Config? = MinHash.Config()
    /// Train/eval split (default none).
    public var split: SplitConfig?
    /// Bytes the run's sort buffers and caches may hold before spilling to disk (`MemoryBudget`); nil (default)
    /// is `MemoryBudget.defaultBytes`, a quarter of the available memory. Outputs do not depend on it.
    public var memoryBudget: Int?

    /// The defaults of `lathe clean` and of the recipe's clean stage (both start here): every filter on, each
    /// record filtered by the rules of its kind (`auto`), or by those `kind` forces on all records.
    public init(kind: CleanKind = .auto) { self.kind = kind.forced }

    enum CodingKeys: String, CodingKey {
        case format, fields, textMode = "text_mode", maxRecordBytes = "max_record_bytes", maxBadFraction = "max_bad_fraction"
        case minLinesForBadFraction = "min_lines_for_bad_fraction", normalization, pii, kind
        case documentFilters = "document_filters", instructionFilters = "instruction_filters"
        case exactDedup = "exact_dedup", minHash = "minhash", split, memoryBudget = "memory_budget"
    }

    /// Applies `change` to the filters of both kinds (a setting given by the user overrides both defaults).
    public mutating func updateFilters(_ change: (inout FilterSet) -> Void) {
        change(&documentFilters)
        change(&instructionFilters)
    }

    /// The rules record `format` is filtered by.
    public func kind(of format: RecordFormat) -> DataKind { kind ?? DataKind.of(format) }

    /// Throws when a value is out of range.
    public func validate() throws(DataError) {
        if maxRecordBytes < 1 { throw .invalidConfig(key: "max_record_bytes", reason: "must be positive (got \(maxRecordBytes))") }
        if !(0...1).contains(maxBadFraction) { throw .invalidConfig(key: "max_bad_fraction", reason: "must be in 0…1 (got \(maxBadFraction))") }
        if let m = minHash {
            if m.ngram < 1 || m.bands < 1 || m.rows < 1 {
                throw .invalidConfig(key: "minhash", reason: "ngram, bands and rows must be positive")
            }
            if let t = m.jaccardThreshold, !(0...1).contains(t) {
                throw .invalidConfig(key: "minhash.jaccard_threshold", reason: "must be in 0…1 (got \(t))")
            }
        }
        if let m = memoryBudget, m < MemoryBudget.minimumBytes {
            throw .invalidConfig(key: "memory_budget", reason: "\(m) bytes is under the minimum of \(MemoryBudget.minimumBytes) bytes")
        }
        if let s = split, !(0...1).contains(s.evalFraction) {
            throw .invalidConfig(key: "split.eval_fraction", reason: "must be in 0…1 (got \(s.evalFraction))")
        }
    }

}

/// The filters for one kind of record; nil turns a filter off.
public struct FilterSet: Codable, Sendable, Equatable {
    /// Length filter.
    public var length: LengthFilter.Config?
    /// Sanity rules for short fields (instruction: on; web: off, the Gopher rules cover documents).
    public var shortText: ShortTextFilter.Config?
    /// Gopher quality rules.
    public var gopherQuality: GopherQualityFilter.Config?
    /// Gopher repetition rules.
    public var gopherRepetition: GopherRepetitionFilter.Config?
    /// Language filter (default off: set `allowed` to keep only some languages).
    public var language: LanguageFilter.Config?

    /// Every filter but the language filter on, with `kind`'s thresholds.
    public init(kind: DataKind) {
        length = LengthFilter.Config(kind: kind)
        shortText = kind == .instruction ? ShortTextFilter.Config() : nil
        gopherQuality = GopherQualityFilter.Config(kind: kind)
        gopherRepetition = GopherRepetitionFilter.Config(kind: kind)
    }

    /// Turns every filter off.
    public mutating func removeAll() { length = nil; shortText = nil; gopherQuality = nil; gopherRepetition = nil; language = nil }

    enum CodingKeys: String, CodingKey {
        case length, shortText = "short_text", gopherQuality = "gopher_quality", gopherRepetition = "gopher_repetition", language
    }

    /// The filters in the order they run.
    func filters(countTokens: (@Sendable (String) -> Int)?) -> [any RecordFilter] {
        var list: [any RecordFilter] = []
        if let length { list.append(LengthFilter(length, countTokens: countTokens)) }
        if let language, !language.allowed.isEmpty { list.append(LanguageFilter(language)) }
        if let shortText { list.append(ShortTextFilter(shortText)) }
        if let gopherQuality { list.append(GopherQualityFilter(gopherQuality)) }
        if let gopherRepetition { list.append(GopherRepetitionFilter(gopherRepetition)) }
        return list
    }
}

/// Progress of a cleaning run, for a progress bar or log.
public struct CleaningProgress: Sendable {
    /// What the run is doing.
    public enum Stage: String, Sendable { case reading, deduplicating, writing, done }
    /// Current stage.
    public var stage: Stage
    /// Input being read (reading stage).
    public var file: String?
    /// Records processed so far in this stage.
    public var records: Int
    /// Input bytes processed so far.
    public var bytes: Int
    /// Total input bytes (0 when unknown).
    public var totalBytes: Int
}
