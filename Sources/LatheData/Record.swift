import LatheFormats
import LatheTokenizers

/// The record formats Lathe trains on. Raw values are the names used in configs and on the command line.
public enum RecordFormat: String, Codable, Sendable, CaseIterable {
    /// `{"text": ...}`
    case text
    /// `{"prompt": ..., "completion": ...}`
    case promptCompletion = "prompt_completion"
    /// Alpaca: `{"instruction": ..., "input": ..., "output": ...}` (`input` optional).
    case alpaca
    /// `{"messages": [{"role": ..., "content": ...}]}` with roles system/user/assistant/tool.
    case chat
}

/// The text-bearing part of a record, in one of the four formats.
public enum RecordContent: Sendable, Equatable {
    case text(String)
    case promptCompletion(prompt: String, completion: String)
    case alpaca(instruction: String, input: String, output: String)
    case chat([ChatMessage])

    /// The format of this content.
    public var format: RecordFormat {
        switch self {
        case .text: return .text
        case .promptCompletion: return .promptCompletion
        case .alpaca: return .alpaca
        case .chat: return .chat
        }
    }

    /// The text fields in order (chat: each message's content).
    public var parts: [String] {
        switch self {
        case .text(let t): return [t]
        case .promptCompletion(let p, let c): return [p, c]
        case .alpaca(let i, let x, let o): return [i, x, o]
        case .chat(let m): return m.map(\.content)
        }
    }

    /// The same content with every text field passed through `transform`.
    public func mapParts(_ transform: (String) -> String) -> RecordContent {
        switch self {
        case .text(let t): return .text(transform(t))
        case .promptCompletion(let p, let c): return .promptCompletion(prompt: transform(p), completion: transform(c))
        case .alpaca(let i, let x, let o): return .alpaca(instruction: transform(i), input: transform(x), output: transform(o))
        case .chat(let m): return .chat(m.map { ChatMessage(role: $0.role, content: transform($0.content)) })
        }
    }

    /// All text fields joined by blank lines: what filters and dedup look at.
    public var joinedText: String { parts.filter { !$0.isEmpty }.joined(separator: "\n\n") }
}

/// Where a record came from, for the audit trail.
public struct SourceLocation: Sendable, Equatable, Codable {
    /// Input file path as given.
    public var file: String
    /// 1-based line (JSONL), starting line of the row (CSV), or paragraph index (text folders).
    public var line: Int
    /// Byte offset of the record's first byte in the file.
    public var byteOffset: Int

    /// Creates a location.
    public init(file: String, line: Int, byteOffset: Int) {
        self.file = file; self.line = line; self.byteOffset = byteOffset
    }

    enum CodingKeys: String, CodingKey { case file, line, byteOffset = "byte_offset" }

    /// `file:line`, used as a record id in reports.
    public var id: String { "\(file):\(line)" }
}

/// One training record: its content, the other fields it came with (kept untouched), and its origin.
public struct Record: Sendable {
    /// The text fields.
    public var content: RecordContent
    /// Fields of the input object that are not content fields, in input order.
    public var extra: [(String, JSONValue)]
    /// Origin of the record.
    public var source: SourceLocation

    /// Creates a record.
    public init(content: RecordContent, extra: [(String, JSONValue)] = [], source: SourceLocation) {
        self.content = content; self.extra = extra; self.source = source
    }

    /// The record as a JSON object with canonical field names, extra fields after the content fields.
    public var json: JSONValue {
        var pairs: [(String, JSONValue)]
        switch content {
        case .text(let t): pairs = [("text", .string(t))]
        case .promptCompletion(let p, let c): pairs = [("prompt", .string(p)), ("completion", .string(c))]
        case .alpaca(let i, let x, let o):
            pairs = [("instruction", .string(i)), ("input", .string(x)), ("output", .string(o))]
        case .chat(let m):
            pairs = [("messages", .array(m.map { .object(JSONObject([("role", .string($0.role)), ("content", .string($0.content))])) }))]
        }
        let taken = Set(pairs.map(\.0))
        pairs.append(contentsOf: extra.filter { !taken.contains($0.0) })
        return .object(JSONObject(pairs))
    }
}
