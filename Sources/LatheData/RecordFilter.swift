/// The two kinds of data whose filter defaults differ. Unless a kind is forced (`--kind`, recipe `clean.kind`),
/// each record gets the kind of its format (`DataKind.of`).
public enum DataKind: String, Codable, Sendable, CaseIterable {
    /// Long web-like documents (pages, wiki articles, tickets): Gopher defaults apply as in the paper.
    case web
    /// Short instruction or chat records: Gopher rules only on long fields, one field at a time.
    case instruction

    /// The kind a record of `format` gets by default: plain `text` is a document; chat, prompt/completion and
    /// alpaca records are instruction data, whose questions and answers are short.
    public static func of(_ format: RecordFormat) -> DataKind { format == .text ? .web : .instruction }
}

/// Which filter rules a cleaning run applies, as `lathe clean --kind` and the recipe's `clean.kind` spell it (one
/// type for both): `auto` gives each record the kind of its format (`DataKind.of`); `web` or `instruction` forces
/// that kind on every record.
public enum CleanKind: String, Codable, Sendable, CaseIterable {
    /// Per record: instruction rules for chat, prompt/completion and alpaca records, document rules for text.
    case auto
    /// Document (web page) rules for every record.
    case web
    /// Instruction rules for every record.
    case instruction

    /// The kind forced on every record; nil for `auto`.
    public var forced: DataKind? {
        switch self {
        case .auto: return nil
        case .web: return .web
        case .instruction: return .instruction
        }
    }
}

/// A filter's decision.
public enum FilterVerdict: Sendable, Equatable {
    case keep
    case drop(RejectReason)
}

/// One text a filter can look at: a whole record, or one of its fields, with its words.
public struct FilterText: Sendable {
    /// Where the text is: `text`, `prompt`, `completion`, `messages[2] (assistant)`…, or `record` for all fields.
    public let label: String
    /// The text.
    public let text: String
    /// Word tokens of `text` (see `Words.split`).
    public let words: [Substring]
    /// Words that are not only punctuation or symbols (what Gopher counts as words).
    public let wordCount: Int

    init(label: String, text: String, words: [Substring]) {
        self.label = label; self.text = text; self.words = words
        wordCount = words.lazy.filter { !Words.isSymbolOnly($0) }.count
    }

    init(label: String, joining fields: [FilterText]) {
        self.label = label
        text = fields.map(\.text).joined(separator: "\n\n")
        words = fields.flatMap(\.words)   // whitespace separates fields, so these are the joined text's words
        wordCount = fields.reduce(0) { $0 + $1.wordCount }
    }
}

/// A record prepared for filtering: the joined text, each non-empty field, and their words, computed once and
/// shared by all filters.
public struct FilterDocument: Sendable {
    /// The record.
    public let record: Record
    /// All text fields joined by blank lines (`RecordContent.joinedText`), with its words.
    public let whole: FilterText
    /// The non-empty text fields, each with its words (one for a `text` record).
    public let fields: [FilterText]

    /// All text fields joined by blank lines.
    public var text: String { whole.text }
    /// Word tokens of `text` (see `Words.split`).
    public var words: [Substring] { whole.words }

    /// Prepares `record`.
    public init(_ record: Record) {
        self.record = record
        var labeled: [(String, String)]
        switch record.content {
        case .text(let t): labeled = [("text", t)]
        case .promptCompletion(let p, let c): labeled = [("prompt", p), ("completion", c)]
        case .alpaca(let i, let x, let o): labeled = [("instruction", i), ("input", x), ("output", o)]
        case .chat(let m): labeled = m.enumerated().map { ("messages[\($0.offset)] (\($0.element.role))", $0.element.content) }
        }
        fields = labeled.filter { !$0.1.isEmpty }.map { FilterText(label: $0.0, text: $0.1, words: Words.split($0.1)) }
        whole = fields.count == 1 ? fields[0] : FilterText(label: "record", joining: fields)
    }

    /// Prepares a bare text (tests, decontamination).
    public init(text: String) { self.init(Record(content: .text(text), source: SourceLocation(file: "", line: 0, byteOffset: 0))) }

    /// The texts a document-level rule checks: each field on its own (`eachField`) or the whole record, keeping
    /// only those of at least `minWords` words.
    public func texts(eachField: Bool, minWords: Int) -> [FilterText] {
        (eachField ? fields : [whole]).filter { $0.wordCount >= minWords }
    }
}

/// A quality filter: one type per file, configured by a `Config` struct with defaults per `DataKind`.
public protocol RecordFilter: Sendable {
    /// Name used in reports and in the `step` of rejections (`length`, `gopher_quality`…).
    var name: String { get }
    /// Keep or drop, with a reason.
    func check(_ document: FilterDocument) -> FilterVerdict
}

/// A filter of document-level rules (Gopher's): it checks each text `DocumentRules` selects from a record and
/// drops the record at the first text that fails, naming that text.
public protocol DocumentRuleFilter: RecordFilter {
    /// Each field on its own (instruction records) or the whole record, and the fewest words a text is checked at.
    var scope: (eachField: Bool, minWords: Int) { get }
    /// The rules on one text.
    func check(_ unit: FilterText) -> FilterVerdict
}

extension DocumentRuleFilter {
    public func check(_ document: FilterDocument) -> FilterVerdict {
        for unit in document.texts(eachField: scope.eachField, minWords: scope.minWords) {
            if case .drop(let reason) = check(unit) { return .drop(reason.located(unit, in: document)) }
        }
        return .keep
    }
}

/// Where the document-level rules (Gopher quality and repetition) apply to instruction records.
public enum DocumentRules {
    /// Fields shorter than this many words are not checked by the Gopher rules: 50 is Gopher's own minimum
    /// document length (Rae et al. 2021, appendix A.1.1; datatrove `GopherQualityFilter(min_doc_words=50)`).
    /// Below it the paper drops a page as too short, so its n-gram, symbol and word-length statistics were never
    /// meant for such texts; on a two-sentence answer they measure the answer's wording, not its quality.
    public static let minWords = 50
}

extension RejectReason {
    /// The reason with the field it concerns named first, when the record has several fields.
    func located(_ text: FilterText, in document: FilterDocument) -> RejectReason {
        document.fields.count > 1 && text.label != "record" ? RejectReason(code: code, detail: "\(text.label): \(detail)") : self
    }
}
