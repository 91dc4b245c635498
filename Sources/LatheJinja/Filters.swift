/// Jinja filters (jinja2/filters.py) and transformers' `tojson` override.
enum Filters {
    static let names: Set<String> = [
        "trim", "tojson", "length", "count", "upper", "lower", "title", "capitalize", "first", "last", "join", "default",
        "d", "selectattr", "rejectattr", "select", "reject", "map", "list", "string", "int", "float", "items", "replace",
        "round", "indent", "safe", "unique", "abs", "reverse", "sort", "sum", "min", "max", "format", "escape", "e",
        "attr", "dictsort", "wordcount", "center", "batch",
    ]
}

extension Interpreter {
    func applyFilter(_ name: String, _ v: TemplateValue, args: [TemplateValue], kwargs: [(String, TemplateValue)],
                     offset: Int) throws -> TemplateValue {
        let a = Arguments(args: args, kwargs: kwargs, interpreter: self, offset: offset, function: "filter '\(name)'")
        var f = formatter
        switch name {
        case "default", "d":
            let boolean = try a.bool(1, "boolean", default: false)
            let useDefault = v.isUndefined || (boolean && !v.isTruthy)
            return useDefault ? (try a.value(0, "default_value") ?? .string("")) : v
        case "safe": return .string(try f.str(v))  // Markup(value): a string from here on
        case "string": return .string(try f.str(v))
        case "trim":
            return .string(PyString.strip(try f.str(v), chars: try a.optionalString(0, "chars"), left: true, right: true))
        case "upper": return .string(try f.str(v).uppercased())
        case "lower": return .string(try f.str(v).lowercased())
        case "capitalize": return .string(PyString.capitalize(try f.str(v)))
        case "title": return .string(jinjaTitle(try f.str(v)))
        case "length", "count":
            switch v {
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l), .tuple(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            case .namespace(let ns): return .int(ns.attributes.count)
            case .undefined: return .int(0)
            default: throw a.fail("object of type '\(v.typeName)' has no len()")
            }
        case "first", "last":
            let items = try iterate(v, offset: offset)
            return (name == "first" ? items.first : items.last) ?? .undefined
        case "list": return .list(try iterate(v, offset: offset))
        case "reverse":
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try iterate(v, offset: offset).reversed())
        case "join":
            var items = try iterate(v, offset: offset)
            if let attr = try a.optionalString(1, "attribute") { items = try items.map { try attributePath($0, attr) } }
            let sep = try a.optionalString(0, "d") ?? ""
            try budget.tick(items.count)
            var out = ""
            for (i, item) in items.enumerated() {
                if i > 0 { out += sep }
                out += try f.str(item)
                try budget.checkSize(out)
            }
            return .string(out)
        case "tojson": return .string(try toJSON(v, a))
        case "items":
            if v.isUndefined { return .list([]) }
            guard case .dict(let d) = v else { throw a.fail("can only get item pairs from a mapping") }
            return .list(d.entries.map { .tuple([.string($0.key), $0.value]) })
        case "replace":
            guard case .string(let old) = try a.required(0, "old"), case .string(let new) = try a.required(1, "new") else {
                throw a.fail("arguments must be strings")
            }
            let r = PyString.replace(try f.str(v), old, new, count: try a.int(2, "count", default: -1))
            try budget.checkSize(r)
            return .string(r)
        case "int": return try toInt(v, a)
        case "float": return try toFloat(v, a)
        case "abs":
            switch v {
            case .int(let i): return i == Int.min ? .double(-Double(i)) : .int(abs(i))
            case .double(let d): return .double(abs(d))
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw a.fail("bad operand type for abs(): '\(v.typeName)'")
            }
        case "round": return try roundValue(v, a)
        case "indent":
            guard case .string(let s) = v else { throw a.fail("'\(v.typeName)' object has no attribute 'splitlines'") }
            return .string(try indent(s, a))
        case "unique", "sort", "min", "max", "sum", "dictsort":
            return try collectionFilter(name, v, a)
        case "select", "reject", "selectattr", "rejectattr":
            return try selectFilter(name, v, a)
        case "map": return try mapFilter(v, a)
        case "attr":
            guard case .string(let n) = try a.required(0, "name") else { throw a.fail("attribute name must be a string") }
            return try attribute(v, n, offset: offset)
        case "format":
            return .string(try printfFormat(try f.str(v), args: args, a))
        case "escape", "e":
            let s = try f.str(v)
            return .string(s.replacingOccurrences("&", "&amp;").replacingOccurrences("<", "&lt;")
                .replacingOccurrences(">", "&gt;").replacingOccurrences("\"", "&#34;").replacingOccurrences("'", "&#39;"))
        case "wordcount":  // len(re.findall(r"\w+", s))
            var words = 0, inWord = false
            for c in try f.str(v).unicodeScalars {
                let isWord = c == "_" || c.properties.isAlphabetic || c.properties.numericType != nil
                if isWord && !inWord { words += 1 }
                inWord = isWord
            }
            return .int(words)
        case "center":
            let s = try f.str(v)
            let width = try a.int(0, "width", default: 80)
            let n = s.unicodeScalars.count
            guard width > n else { return .string(s) }
            try budget.checkSize(bytes: width)
            let total = width - n, left = total / 2 + (total & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: total - left))
        case "batch":
            let items = try iterate(v, offset: offset)
            let size = try a.int(0, "linecount", default: 1)
            guard size > 0 else { throw a.fail("batch size must be positive") }
            return .list(stride(from: 0, to: items.count, by: size).map { .list(Array(items[$0..<min($0 + size, items.count)])) })
        default:
            throw error(offset, "no filter named '\(name)'")
        }
    }

    /// transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
    func toJSON(_ v: TemplateValue, _ a: Arguments) throws -> String {
        var o = Formatter.JSONOptions()
        o.ensureASCII = try a.bool(0, "ensure_ascii", default: false)
        switch try a.value(1, "indent") {
        case nil, .none?: break
        case .int(let n)?: o.indent = String(repeating: " ", count: max(0, min(n, 64)))
        case .string(let s)?: o.indent = s
        case let other?: throw a.fail("indent must be an integer or a string, not \(other.typeName)")
        }
        if let seps = try a.value(2, "separators")?.sequenceItems {
            guard seps.count == 2, case .string(let item) = seps[0], case .string(let key) = seps[1] else {
                throw a.fail("separators must be a pair of strings")
            }
            o.itemSeparator = item
            o.keySeparator = key
        }
        o.sortKeys = try a.bool(3, "sort_keys", default: false)
        var out = ""
        var f = formatter
        try f.json(v, o, into: &out)
        return out
    }

    /// Jinja's `title` filter: upper-cases the first letter of words split at whitespace, `-`, `(`, `{`, `[`, `<`.
    func jinjaTitle(_ s: String) -> String {
        var out = ""
        var atWordStart = true
        for c in s.unicodeScalars {
            let isBoundary = PyString.isSpace(c) || "-({[<".unicodeScalars.contains(c)
            if isBoundary { out.unicodeScalars.append(c); atWordStart = true; continue }
            out += atWordStart ? String(c).uppercased() : String(c).lowercased()
            atWordStart = false
        }
        return out
    }

    func toInt(_ v: TemplateValue, _ a: Arguments) throws -> TemplateValue {
        if v.isUndefined { throw a.fail("cannot convert an undefined value to int") }
        let fallback = try a.value(0, "default") ?? .int(0)
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return try truncated(d, a) ?? fallback
        case .string(let s):
            let t = PyString.strip(s, chars: nil, left: true, right: true).replacingOccurrences("_", "")
            let base = try a.int(1, "base", default: 10)
            if let i = Int(t, radix: base) { return .int(i) }
            if let d = Double(t) { return try truncated(d, a) ?? fallback }
            return fallback
        default: return fallback
        }
    }

    /// Python's `int(d)`: nil for NaN (Jinja then gives the default); an error where Python's integer would not fit
    /// in 64 bits (Python raises OverflowError for infinities and has no bound otherwise: Lathe's integers do).
    func truncated(_ d: Double, _ a: Arguments) throws -> TemplateValue? {
        if d.isNaN { return nil }
        guard d.isFinite, d >= -9_223_372_036_854_775_808.0, d < 9_223_372_036_854_775_808.0 else {
            throw a.fail("integer overflow: \(d) does not fit in a 64-bit integer (Lathe integers are 64-bit)")
        }
        return .int(Int(d))
    }

    func toFloat(_ v: TemplateValue, _ a: Arguments) throws -> TemplateValue {
        if v.isUndefined { throw a.fail("cannot convert an undefined value to float") }
        let fallback = try a.value(0, "default") ?? .double(0)
        switch v {
        case .int(let i): return .double(Double(i))
        case .bool(let b): return .double(b ? 1 : 0)
        case .double: return v
        case .string(let s):
            let t = PyString.strip(s, chars: nil, left: true, right: true).replacingOccurrences("_", "")
            return Double(t).map { .double($0) } ?? fallback
        default: return fallback
        }
    }

    /// `round(value, precision=0, method='common')`; 'common' is Python's `round` (half to even).
    func roundValue(_ v: TemplateValue, _ a: Arguments) throws -> TemplateValue {
        let precision = try a.int(0, "precision", default: 0)
        let method = try a.optionalString(1, "method") ?? "common"
        guard let n = Operators.number(v) else { throw a.fail("type \(v.typeName) doesn't define __round__") }
        let x = Operators.asDouble(n)
        let scale = (0..<min(abs(precision), 30)).reduce(1.0) { r, _ in r * 10 }
        let scaled = precision >= 0 ? x * scale : x / scale
        let rule: FloatingPointRoundingRule
        switch method {
        case "common": rule = .toNearestOrEven
        case "ceil": rule = .up
        case "floor": rule = .down
        default: throw a.fail("method must be common, ceil or floor")
        }
        let r = scaled.rounded(rule)
        let result = precision >= 0 ? r / scale : r * scale
        if case .int = n, method == "common" { return .int(Int(exactly: result) ?? 0) }
        return .double(result)
    }

    /// Jinja's `indent(width=4, first=False, blank=False)`.
    func indent(_ s: String, _ a: Arguments) throws -> String {
        let prefix: String
        switch try a.value(0, "width") {
        case .string(let p)?: prefix = p
        case let w?: prefix = String(repeating: " ", count: max(0, min(Operators.intIndex(w) ?? 4, 1024)))
        case nil: prefix = "    "
        }
        let first = try a.bool(1, "first", default: false)
        let blank = try a.bool(2, "blank", default: false)
        let lines = PyString.splitlines(s + "\n")
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + prefix)
        } else {
            rv = lines.first ?? ""
            if lines.count > 1 {
                rv += "\n" + lines.dropFirst().map { $0.isEmpty ? $0 : prefix + $0 }.joined(separator: "\n")
            }
        }
        if first { rv = prefix + rv }
        try budget.checkSize(rv)
        return rv
    }

    /// Looks up a dotted attribute path (`"function.name"`, `"0"`) as Jinja's `make_attrgetter` does.
    func attributePath(_ v: TemplateValue, _ path: String) throws -> TemplateValue {
        var current = v
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            let key: TemplateValue = Int(part).map { .int($0) } ?? .string(String(part))
            current = try item(current, key, offset: budget.offset)
        }
        return current
    }
}
