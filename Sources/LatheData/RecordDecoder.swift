import LatheFormats
import LatheTokenizers

/// Turns a JSON object (or a CSV row) into a `Record`: detects the format, or uses the one given, and
/// applies field remapping (`fields: {prompt: question, completion: answer}` reads `prompt` from `question`).
public struct RecordDecoder: Sendable {
    /// Roles accepted in chat records.
    public static let chatRoles: Set<String> = ["system", "user", "assistant", "tool"]

    /// The forced format, or nil to detect it per record.
    public var format: RecordFormat?
    /// Canonical field name → the key it is read from (`prompt`, `completion`, `text`, `instruction`, `input`,
    /// `output`, `messages`, `role`, `content`).
    public var fields: [String: String]

    /// Creates a decoder.
    public init(format: RecordFormat? = nil, fields: [String: String] = [:]) {
        self.format = format; self.fields = fields
    }

    private func key(_ canonical: String) -> String { fields[canonical] ?? canonical }

    /// The format detection would pick for `object`, or nil when no known field is present.
    /// Order: chat, alpaca, prompt/completion, text.
    public func detect(_ object: JSONValue) -> RecordFormat? {
        if object[key("messages")] != nil { return .chat }
        if object[key("instruction")] != nil && object[key("output")] != nil { return .alpaca }
        if object[key("prompt")] != nil && object[key("completion")] != nil { return .promptCompletion }
        if object[key("text")] != nil { return .text }
        return nil
    }

    /// Decodes `value`; the error string is a rejection reason naming the missing or mistyped field.
    public func decode(_ value: JSONValue, source: SourceLocation) -> Result<Record, RejectReason> {
        guard case .object(let object) = value else {
            return .failure(RejectReason(code: "not_an_object", detail: "the line is \(value.kindName); expected a JSON object"))
        }
        guard let format = format ?? detect(value) else {
            let keys = object.keys.prefix(8).joined(separator: ", ")
            return .failure(RejectReason(code: "unknown_format",
                detail: "no text, prompt/completion, instruction/output or messages field (keys: \(keys)); "
                    + "set the format or remap fields"))
        }
        var used: Set<String> = []
        func string(_ canonical: String, optional: Bool = false) -> Result<String, RejectReason> {
            let k = key(canonical)
            used.insert(k)
            switch value[k] {
            case .string(let s)?: return .success(s)
            case nil where optional, .null? where optional: return .success("")
            case nil: return .failure(RejectReason(code: "missing_field", detail: "field '\(k)' is missing"))
            case let other?: return .failure(RejectReason(code: "wrong_type", detail: "field '\(k)' is \(other.kindName), expected a string"))
            }
        }
        let content: RecordContent
        do throws(RejectReason) {
            switch format {
            case .text: content = .text(try string("text").get())
            case .promptCompletion:
                content = .promptCompletion(prompt: try string("prompt").get(), completion: try string("completion").get())
            case .alpaca:
                content = .alpaca(instruction: try string("instruction").get(), input: try string("input", optional: true).get(),
                                  output: try string("output").get())
            case .chat:
                let k = key("messages")
                used.insert(k)
                content = .chat(try messages(value[k], key: k).get())
            }
        } catch {
            return .failure(error)
        }
        let extra = zip(object.keys, object.values).filter { !used.contains($0.0) }
        return .success(Record(content: content, extra: extra, source: source))
    }

    private func messages(_ value: JSONValue?, key k: String) -> Result<[ChatMessage], RejectReason> {
        guard case .array(let items)? = value else {
            let kind = value?.kindName ?? "missing"
            return .failure(RejectReason(code: "wrong_type", detail: "field '\(k)' is \(kind), expected an array of messages"))
        }
        if items.isEmpty { return .failure(RejectReason(code: "empty_messages", detail: "field '\(k)' has no messages")) }
        var out: [ChatMessage] = []
        for (n, item) in items.enumerated() {
            guard case .string(let role)? = item[key("role")], case .string(let content)? = item[key("content")] else {
                return .failure(RejectReason(code: "invalid_message",
                    detail: "message \(n) needs string '\(key("role"))' and '\(key("content"))' fields"))
            }
            guard Self.chatRoles.contains(role) else {
                return .failure(RejectReason(code: "invalid_role",
                    detail: "message \(n) has role '\(role)'; expected system, user, assistant or tool"))
            }
            out.append(ChatMessage(role: role, content: content))
        }
        return .success(out)
    }
}

/// Why a record was dropped: a stable code for counting and a sentence for people.
public struct RejectReason: Error, Sendable, Equatable {
    /// Short machine-readable code (`invalid_utf8`, `gopher_short_doc`, `near_duplicate`…).
    public var code: String
    /// Human explanation with specifics.
    public var detail: String
    /// Creates a reason.
    public init(code: String, detail: String) { self.code = code; self.detail = detail }
}
