/// The two kinds of data whose filter defaults differ.
public enum DataKind: String, Codable, Sendable, CaseIterable {
    /// Long web-like documents (pages, wiki articles, tickets): Gopher defaults apply as in the paper.
    case web
    /// Short instruction or chat records: word-count and stop-word rules relaxed, code-friendly symbol limits.
    case instruction
}

/// A filter's decision.
public enum FilterVerdict: Sendable, Equatable {
    case keep
    case drop(RejectReason)
}

/// A record prepared for filtering: the joined text and its words, computed once and shared by all filters.
public struct FilterDocument: Sendable {
    /// The record.
    public let record: Record
    /// All text fields joined by blank lines.
    public let text: String
    /// Word tokens of `text` (see `Words.split`).
    public let words: [Substring]

    /// Prepares `record`.
    public init(_ record: Record) {
        self.record = record
        text = record.content.joinedText
        words = Words.split(text)
    }

    /// Prepares a bare text (tests, decontamination).
    public init(text: String) { self.init(Record(content: .text(text), source: SourceLocation(file: "", line: 0, byteOffset: 0))) }
}

/// A quality filter: one type per file, configured by a `Config` struct with defaults per `DataKind`.
public protocol RecordFilter: Sendable {
    /// Name used in reports and in the `step` of rejections (`length`, `gopher_quality`…).
    var name: String { get }
    /// Keep or drop, with a reason.
    func check(_ document: FilterDocument) -> FilterVerdict
}
