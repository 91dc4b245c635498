import LatheFormats

/// Python's `str()`, `repr()` and `json.dumps` for template values, which is what Jinja prints.
/// Every writer checks `budget` so a deeply shared structure cannot blow up memory or time.
struct Formatter {
    var budget: Budget

    /// `str(value)`: strings as is, `None`/`True`, containers through `repr`, undefined as "".
    mutating func str(_ v: TemplateValue) throws -> String {
        switch v {
        case .string(let s): return s
        case .undefined: return ""
        default:
            var out = ""
            try repr(v, into: &out)
            return out
        }
    }

    mutating func repr(_ v: TemplateValue, into out: inout String) throws {
        try budget.tick(1)
        switch v {
        case .string(let s): out += Formatter.reprString(s)
        case .int(let i): out += String(i)
        case .double(let d): out += Formatter.floatRepr(d)
        case .bool(let b): out += b ? "True" : "False"
        case .none: out += "None"
        case .undefined: out += "Undefined"
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                try repr(item, into: &out)
                try budget.checkSize(out)
            }
            out += "]"
        case .tuple(let items):
            out += "("
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                try repr(item, into: &out)
                try budget.checkSize(out)
            }
            out += items.count == 1 ? ",)" : ")"
        case .dict(let d):
            out += "{"
            for (i, e) in d.entries.enumerated() {
                if i > 0 { out += ", " }
                out += Formatter.reprString(e.key) + ": "
                try repr(e.value, into: &out)
                try budget.checkSize(out)
            }
            out += "}"
        case .namespace(let ns):
            out += "<Namespace "
            var tmp = ""
            try repr(.dict(ns.attributes), into: &tmp)
            out += tmp + ">"
        case .macro(let m): out += "<Macro '\(m.name)'>"
        case .function(let f): out += "<function \(f.name)>"
        }
    }

    /// Python float repr: shortest round-trip digits, exponent outside [1e-4, 1e16).
    static func floatRepr(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    /// Python `repr(str)`: single quotes unless the text has a single quote and no double quote.
    static func reprString(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote {
                    out += "\\" + String(quote)
                } else if scalar.value < 0x20 || (0x7F...0xA0).contains(scalar.value) {
                    out += "\\x" + hex(scalar.value, width: 2)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out.append(quote)
        return out
    }

    static func hex(_ v: UInt32, width: Int) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }

    /// Options of transformers' `tojson` filter, which calls `json.dumps(x, ensure_ascii=False, indent=None,
    /// separators=None, sort_keys=False)` (chat_template_utils.py).
    struct JSONOptions {
        var ensureASCII = false
        var indent: String? = nil
        var itemSeparator: String? = nil
        var keySeparator = ": "
        var sortKeys = false
    }

    mutating func json(_ v: TemplateValue, _ o: JSONOptions, level: Int = 0, into out: inout String) throws {
        try budget.tick(1)
        switch v {
        case .string(let s): JSONValue.writeString(s, asciiOnly: o.ensureASCII, to: &out)
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isNaN { out += "NaN" } else if d.isInfinite { out += d < 0 ? "-Infinity" : "Infinity" }
            else { out += d.description }
        case .bool(let b): out += b ? "true" : "false"
        case .none: out += "null"
        case .list(let items), .tuple(let items):
            if items.isEmpty { out += "[]"; return }
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += o.itemSeparator ?? (o.indent == nil ? ", " : ",") }
                newline(o, level + 1, &out)
                try json(item, o, level: level + 1, into: &out)
                try budget.checkSize(out)
            }
            newline(o, level, &out)
            out += "]"
        case .dict(let d):
            if d.isEmpty { out += "{}"; return }
            out += "{"
            let entries = o.sortKeys ? d.entries.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) } : d.entries
            for (i, e) in entries.enumerated() {
                if i > 0 { out += o.itemSeparator ?? (o.indent == nil ? ", " : ",") }
                newline(o, level + 1, &out)
                JSONValue.writeString(e.key, asciiOnly: o.ensureASCII, to: &out)
                out += o.keySeparator
                try json(e.value, o, level: level + 1, into: &out)
                try budget.checkSize(out)
            }
            newline(o, level, &out)
            out += "}"
        case .undefined, .namespace, .macro, .function:
            throw budget.typeError("Object of type \(v.typeName) is not JSON serializable")
        }
    }

    private func newline(_ o: JSONOptions, _ level: Int, _ out: inout String) {
        guard let indent = o.indent else { return }
        out += "\n"
        for _ in 0..<level { out += indent }
    }
}
