import LatheFormats

/// Conversions from JSON text and from Swift values into `TemplateValue`.
///
/// JSON objects keep their key order (as Python's `json.loads` does), which `tojson` and `items()` expose.
extension TemplateValue {
    /// Parses JSON text with LatheFormats' strict parser (RFC 8259; duplicate keys, lone surrogates and
    /// nesting deeper than `JSONParser.maxDepth` are errors); integers without a fraction or exponent become `.int`, as in Python.
    public init(json text: String) throws {
        do {
            self = TemplateValue(parsed: try LatheFormats.JSONValue.parse(text))
        } catch {
            throw TemplateError.syntax(line: error.line, column: error.column, message: "JSON: \(error.message)")
        }
    }

    /// The template value of a parsed JSON document (objects keep their key order).
    init(parsed: LatheFormats.JSONValue) {
        switch parsed {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .number(let n): self = n.intValue.map(TemplateValue.int) ?? .double(n.doubleValue)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(TemplateValue.init(parsed:)))
        case .object(let object):
            self = .dict(TemplateDict(zip(object.keys, object.values).map { ($0, TemplateValue(parsed: $1)) }))
        }
    }

    /// Converts a value built from Swift types (`String`, `Int`, `Double`, `Bool`, arrays, `[String: Any]`, `nil`).
    /// Dictionary keys are sorted, because `[String: Any]` has no order; pass a `TemplateDict` to keep one.
    public init(any value: Any?) {
        switch value {
        case nil: self = .none
        case let v as TemplateValue: self = v
        case let v as String: self = .string(v)
        case let v as Bool: self = .bool(v)
        case let v as Int: self = .int(v)
        case let v as Double: self = .double(v)
        case let v as Float: self = .double(Double(v))
        case let v as [Any?]: self = .list(v.map { TemplateValue(any: $0) })
        case let v as TemplateDict: self = .dict(v)
        case let v as [String: Any?]:
            self = .dict(TemplateDict(v.keys.sorted().map { ($0, TemplateValue(any: v[$0] ?? nil)) }))
        default: self = .string(String(describing: value!))
        }
    }
}
