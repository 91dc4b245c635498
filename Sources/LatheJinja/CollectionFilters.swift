/// Filters over sequences: `select`/`reject`(`attr`), `map`, `unique`, `sort`, `min`, `max`, `sum`, `dictsort`,
/// and printf-style `format`.
extension Interpreter {
    func selectFilter(_ name: String, _ v: TemplateValue, _ a: Arguments) throws -> TemplateValue {
        let items = try iterate(v, offset: a.offset)
        let byAttribute = name.hasSuffix("attr")
        let keep = name.hasPrefix("select")
        var rest = a.args
        var attribute: String? = nil
        if byAttribute {
            guard case .string(let attr)? = rest.first else { throw a.fail("missing attribute name") }
            attribute = attr
            rest.removeFirst()
        }
        var testName: String? = nil
        if let t = rest.first {
            guard case .string(let tn) = t else { throw a.fail("test name must be a string") }
            testName = tn
            rest.removeFirst()
        }
        var out: [TemplateValue] = []
        for item in items {
            try budget.tick(1)
            let subject = try attribute.map { try attributePath(item, $0) } ?? item
            let passed = try testName.map { try applyTest($0, subject, args: rest, offset: a.offset) } ?? subject.isTruthy
            if passed == keep { out.append(item) }
        }
        return .list(out)
    }

    func mapFilter(_ v: TemplateValue, _ a: Arguments) throws -> TemplateValue {
        let items = try iterate(v, offset: a.offset)
        try budget.tick(items.count)
        if case .string(let attr)? = a.kwargs.last(where: { $0.0 == "attribute" })?.1 {
            let fallback = a.kwargs.last { $0.0 == "default" }?.1
            return .list(try items.map { item in
                let r = try attributePath(item, attr)
                if r.isUndefined, let fallback { return fallback }
                return r
            })
        }
        guard case .string(let filterName)? = a.args.first else { throw a.fail("map needs a filter name or attribute=") }
        let rest = Array(a.args.dropFirst())
        return .list(try items.map { try applyFilter(filterName, $0, args: rest, kwargs: a.kwargs, offset: a.offset) })
    }

    /// The comparison key Jinja uses: strings are lower-cased unless `case_sensitive`.
    func sortKey(_ v: TemplateValue, _ caseSensitive: Bool) -> TemplateValue {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    func collectionFilter(_ name: String, _ v: TemplateValue, _ a: Arguments) throws -> TemplateValue {
        if name == "dictsort" {
            guard case .dict(let d) = v else { throw a.fail("can only sort a mapping") }
            let caseSensitive = try a.bool(0, "case_sensitive", default: false)
            let byValue = try a.optionalString(1, "by") == "value"
            let reverse = try a.bool(2, "reverse", default: false)
            let pairs: [TemplateValue] = d.entries.map { .tuple([.string($0.key), $0.value]) }
            return .list(try sorted(pairs, reverse: reverse) { p in
                guard case .tuple(let kv) = p else { return p }
                return self.sortKey(kv[byValue ? 1 : 0], caseSensitive)
            })
        }
        let items = try iterate(v, offset: a.offset)
        try budget.tick(items.count)
        let attribute = try a.optionalString(name == "sort" ? 2 : (name == "sum" ? 0 : 1), "attribute")
        let caseSensitive = try a.bool(name == "sort" ? 1 : 0, "case_sensitive", default: false)
        let key: (TemplateValue) throws -> TemplateValue = { item in
            self.sortKey(try attribute.map { try self.attributePath(item, $0) } ?? item, caseSensitive)
        }
        switch name {
        case "unique":
            var seen: [TemplateValue] = []
            var out: [TemplateValue] = []
            for item in items {
                let k = try key(item)
                if try !seen.contains(where: { try Operators.equal($0, k, budget) }) {
                    seen.append(k)
                    out.append(item)
                }
            }
            return .list(out)
        case "sort":
            return .list(try sorted(items, reverse: try a.bool(0, "reverse", default: false), key: key))
        case "min", "max":
            let s = try sorted(items, reverse: false, key: key)
            return (name == "min" ? s.first : s.last) ?? .undefined
        default:  // sum
            var total = try a.value(1, "start") ?? .int(0)
            for item in items {
                total = try Operators.binary("+", total, try attribute.map { try attributePath(item, $0) } ?? item, budget: budget)
            }
            return total
        }
    }

    /// A stable sort by key, with Python's ordering errors.
    func sorted(_ items: [TemplateValue], reverse: Bool, key: (TemplateValue) throws -> TemplateValue) throws -> [TemplateValue] {
        let keyed = try items.map { (try key($0), $0) }
        var failure: Error? = nil
        let result = keyed.enumerated().sorted { x, y in
            guard failure == nil else { return false }
            do {
                let c = try Operators.ordering(x.element.0, y.element.0, budget)
                if c == 0 { return x.offset < y.offset }
                return reverse ? c > 0 : c < 0
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        return result.map { $0.element.1 }
    }

    /// Python `%`-formatting for the `format` filter: `%s`, `%r`, `%d`, `%i`, `%f`, `%%`, optionally `%(name)s`.
    func printfFormat(_ format: String, args: [TemplateValue], _ a: Arguments) throws -> String {
        var out = ""
        var next = 0
        var it = Array(format.unicodeScalars)[...]
        var f = formatter
        while let c = it.popFirst() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var key: String? = nil
            if it.first == "(" {
                it.removeFirst()
                var k = ""
                while let d = it.popFirst(), d != ")" { k.unicodeScalars.append(d) }
                key = k
            }
            var spec = ""
            while let d = it.first, "0123456789.-+ ".unicodeScalars.contains(d) { spec.unicodeScalars.append(d); it.removeFirst() }
            guard let conv = it.popFirst() else { throw a.fail("incomplete format") }
            if conv == "%" { out += "%"; continue }
            let value: TemplateValue
            if let key {
                guard let kv = a.kwargs.last(where: { $0.0 == key })?.1 else { throw a.fail("missing key '\(key)'") }
                value = kv
            } else {
                guard next < args.count else { throw a.fail("not enough arguments for format string") }
                value = args[next]
                next += 1
            }
            switch conv {
            case "s": out += try f.str(value)
            case "r":
                var r = ""
                try f.repr(value, into: &r)
                out += r
            case "d", "i":
                guard let n = Operators.number(value) else { throw a.fail("%d format: a number is required") }
                switch n {
                case .int(let i): out += String(i)
                case .double(let d):
                    guard d.isFinite, abs(d) < 9.2e18 else { throw a.fail("%d format: number out of range") }
                    out += String(Int(d))
                }
            case "f":
                guard let n = Operators.number(value) else { throw a.fail("%f format: a number is required") }
                let digits = Int(spec.split(separator: ".").last.map(String.init) ?? "6") ?? 6
                out += fixed(Operators.asDouble(n), digits: spec.contains(".") ? digits : 6)
            default: throw a.fail("unsupported format character '\(conv)'")
            }
            try budget.checkSize(out)
        }
        if next < args.count { throw a.fail("not all arguments converted during string formatting") }
        return out
    }

    private func fixed(_ d: Double, digits: Int) -> String {
        guard d.isFinite, abs(d) < 1e15 else { return Formatter.floatRepr(d) }
        let p = (0..<min(digits, 15)).reduce(1.0) { r, _ in r * 10 }
        let r = (abs(d) * p).rounded(.toNearestOrEven)
        let intPart = Int(r / p)
        var frac = String(Int(r.truncatingRemainder(dividingBy: p)))
        frac = String(repeating: "0", count: max(0, digits - frac.count)) + frac
        return (d < 0 ? "-" : "") + String(intPart) + (digits > 0 ? "." + frac : "")
    }
}
