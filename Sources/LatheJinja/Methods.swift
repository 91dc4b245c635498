/// Python methods of `str` and `dict` that chat templates call (`content.strip()`, `message.get('x')`).
/// Mutating methods (`list.append`, `dict.update`) are absent, as in Jinja's `ImmutableSandboxedEnvironment`.
enum Methods {
    static let stringMethods: Set<String> = [
        "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith", "upper", "lower",
        "title", "capitalize", "replace", "find", "rfind", "count", "join", "isdigit", "isalpha", "isalnum", "isspace",
        "islower", "isupper", "removeprefix", "removesuffix", "format",
    ]
    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]
    static let listMethods: Set<String> = ["count", "index"]

    static func has(_ v: TemplateValue, _ name: String) -> Bool {
        switch v {
        case .string: return stringMethods.contains(name)
        case .dict: return dictMethods.contains(name)
        case .list, .tuple: return listMethods.contains(name)
        default: return false
        }
    }

    static func call(_ v: TemplateValue, _ name: String, args: [TemplateValue], kwargs: [(String, TemplateValue)],
                     interpreter: Interpreter, offset: Int) throws -> TemplateValue {
        let a = Arguments(args: args, kwargs: kwargs, interpreter: interpreter, offset: offset, function: name)
        switch v {
        case .string(let s): return try stringMethod(s, name, a)
        case .dict(let d): return try dictMethod(d, name, a)
        case .list(let l), .tuple(let l):
            let needle = try a.required(0, "value")
            let budget = interpreter.budget
            if name == "count" { return .int(try l.filter { try Operators.equal($0, needle, budget) }.count) }
            guard let i = try l.firstIndex(where: { try Operators.equal($0, needle, budget) }) else {
                throw a.fail("value is not in list")
            }
            return .int(i)
        default: throw interpreter.error(offset, "'\(v.typeName)' object has no method '\(name)'")
        }
    }

    static func dictMethod(_ d: TemplateDict, _ name: String, _ a: Arguments) throws -> TemplateValue {
        switch name {
        case "items": return .list(d.entries.map { .tuple([.string($0.key), $0.value]) })
        case "keys": return .list(d.keys.map { .string($0) })
        case "values": return .list(d.entries.map(\.value))
        default:
            guard case .string(let k) = try a.required(0, "key") else { return try a.value(1, "default") ?? .none }
            let fallback = try a.value(1, "default") ?? .none
            return d[k] ?? fallback
        }
    }

    static func stringMethod(_ s: String, _ name: String, _ a: Arguments) throws -> TemplateValue {
        switch name {
        case "strip", "lstrip", "rstrip":
            let chars = try a.optionalString(0, "chars")
            return .string(PyString.strip(s, chars: chars, left: name != "rstrip", right: name != "lstrip"))
        case "split", "rsplit":
            let sep = try a.optionalString(0, "sep")
            let maxsplit = try a.int(1, "maxsplit", default: -1)
            if sep == "" { throw a.fail("empty separator") }
            return .list(PyString.split(s, sep: sep, maxsplit: maxsplit, fromRight: name == "rsplit").map { .string($0) })
        case "splitlines": return .list(PyString.splitlines(s).map { .string($0) })
        case "startswith", "endswith":
            let arg = try a.required(0, "prefix")
            let candidates: [TemplateValue]
            candidates = arg.sequenceItems ?? [arg]
            for c in candidates {
                guard case .string(let p) = c else { throw a.fail("\(name) arg must be str or a tuple of str") }
                if name == "startswith" ? s.unicodeScalars.starts(with: p.unicodeScalars)
                    : s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed()) { return .bool(true) }
            }
            return .bool(false)
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        case "title": return .string(PyString.title(s))
        case "capitalize": return .string(PyString.capitalize(s))
        case "replace":
            guard case .string(let old) = try a.required(0, "old"), case .string(let new) = try a.required(1, "new") else {
                throw a.fail("replace() arguments must be str")
            }
            let count = try a.int(2, "count", default: -1)
            let r = PyString.replace(s, old, new, count: count)
            try a.interpreter.budget.checkSize(r)
            return .string(r)
        case "find", "rfind", "count":
            guard case .string(let sub) = try a.required(0, "sub") else { throw a.fail("\(name)() argument must be str") }
            let positions = PyString.occurrences(s, sub)
            if name == "count" { return .int(positions.count) }
            return .int((name == "find" ? positions.first : positions.last) ?? -1)
        case "join":
            let items = try a.interpreter.iterate(try a.required(0, "iterable"), offset: a.offset)
            var parts: [String] = []
            for item in items {
                guard case .string(let p) = item else { throw a.fail("sequence item: expected str instance, \(item.typeName) found") }
                parts.append(p)
            }
            let r = parts.joined(separator: s)
            try a.interpreter.budget.checkSize(r)
            return .string(r)
        case "isdigit": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
        case "isalpha": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic })
        case "isalnum": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil })
        case "isspace": return .bool(!s.isEmpty && s.unicodeScalars.allSatisfy(PyString.isSpace))
        case "islower": return .bool(s.contains { $0.isLetter } && s == s.lowercased())
        case "isupper": return .bool(s.contains { $0.isLetter } && s == s.uppercased())
        case "removeprefix", "removesuffix":
            guard case .string(let p) = try a.required(0, "affix") else { throw a.fail("\(name)() argument must be str") }
            if name == "removeprefix", s.unicodeScalars.starts(with: p.unicodeScalars) {
                return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropFirst(p.unicodeScalars.count))))
            }
            if name == "removesuffix", !p.isEmpty, s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed()) {
                return .string(String(String.UnicodeScalarView(s.unicodeScalars.dropLast(p.unicodeScalars.count))))
            }
            return .string(s)
        default:  // format: positional `{}` / `{0}` and keyword `{name}` fields
            return .string(try PyString.braceFormat(s, a))
        }
    }
}
