import Foundation

/// Python semantics for arithmetic, comparison and membership on template values.
enum Operators {
    /// An int (or bool) usable as an index.
    static func intIndex(_ v: TemplateValue) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    enum Number { case int(Int), double(Double) }

    static func number(_ v: TemplateValue) -> Number? {
        switch v {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .double(let d): return .double(d)
        default: return nil
        }
    }

    static func asDouble(_ n: Number) -> Double {
        switch n {
        case .int(let i): return Double(i)
        case .double(let d): return d
        }
    }

    static func binary(_ op: String, _ l: TemplateValue, _ r: TemplateValue, budget: Budget) throws -> TemplateValue {
        switch (op, l, r) {
        case ("+", .string(let a), .string(let b)):
            try budget.checkSize(bytes: a.utf8.count + b.utf8.count)
            return .string(a + b)
        case ("+", .list(let a), .list(let b)):
            try budget.tick(a.count + b.count)
            return .list(a + b)
        case ("+", .tuple(let a), .tuple(let b)):
            try budget.tick(a.count + b.count)
            return .tuple(a + b)
        case ("*", .string(let s), _), ("*", _, .string(let s)):
            let other: TemplateValue
            if case .string = l { other = r } else { other = l }
            guard let n = intIndex(other) else { break }
            guard n > 0, !s.isEmpty else { return .string("") }
            let (bytes, overflow) = s.utf8.count.multipliedReportingOverflow(by: n)
            try budget.checkSize(bytes: overflow ? -1 : bytes)
            return .string(String(repeating: s, count: n))
        case ("*", .list(let a), _), ("*", _, .list(let a)):
            guard let n = intIndex({ if case .list = l { return r } else { return l } }()) else { break }
            guard n > 0, !a.isEmpty else { return .list([]) }
            let (count, overflow) = a.count.multipliedReportingOverflow(by: n)
            if overflow { try budget.tick(budget.limits.maxIterations + 1) }
            try budget.tick(count)
            return .list(Array([[TemplateValue]](repeating: a, count: n).joined()))
        default: break
        }
        guard let a = number(l), let b = number(r) else {
            throw budget.typeError("unsupported operand type(s) for \(op): '\(l.typeName)' and '\(r.typeName)'")
        }
        if case .int(let x) = a, case .int(let y) = b { return try intOp(op, x, y, budget) }
        let x = asDouble(a), y = asDouble(b)
        switch op {
        case "+": return .double(x + y)
        case "-": return .double(x - y)
        case "*": return .double(x * y)
        case "/":
            guard y != 0 else { throw budget.typeError("float division by zero") }
            return .double(x / y)
        case "//", "%":
            guard y != 0 else { throw budget.typeError(op == "%" ? "float modulo" : "float floor division by zero") }
            // CPython's float_divmod: fmod, then correct the sign, then round the quotient.
            var mod = fmod(x, y)
            var div = (x - mod) / y
            if mod != 0 {
                if (y < 0) != (mod < 0) { mod += y; div -= 1 }
            } else {
                mod = copysign(0, y)
            }
            if op == "%" { return .double(mod) }
            var floorDiv: Double
            if div != 0 {
                floorDiv = div.rounded(.down)
                if div - floorDiv > 0.5 { floorDiv += 1 }
            } else {
                floorDiv = copysign(0, x / y)
            }
            return .double(floorDiv)
        case "**": return .double(Foundation.pow(x, y))
        default: throw budget.typeError("unknown operator \(op)")
        }
    }

    static func intOp(_ op: String, _ x: Int, _ y: Int, _ budget: Budget) throws -> TemplateValue {
        func checked(_ r: (Int, Bool)) throws -> TemplateValue {
            guard !r.1 else { throw budget.typeError("integer overflow in \(op) (Lathe integers are 64-bit)") }
            return .int(r.0)
        }
        switch op {
        case "+": return try checked(x.addingReportingOverflow(y))
        case "-": return try checked(x.subtractingReportingOverflow(y))
        case "*": return try checked(x.multipliedReportingOverflow(by: y))
        case "/":
            guard y != 0 else { throw budget.typeError("division by zero") }
            return .double(Double(x) / Double(y))
        case "//", "%":
            guard y != 0 else { throw budget.typeError("integer division or modulo by zero") }
            guard !(x == Int.min && y == -1) else { throw budget.typeError("integer overflow in \(op)") }
            var q = x / y, m = x % y
            if m != 0 && (m < 0) != (y < 0) { q -= 1; m += y }
            return .int(op == "//" ? q : m)
        case "**":
            if y < 0 { return .double(Foundation.pow(Double(x), Double(y))) }
            var result = 1, base = x, e = y
            while e > 0 {
                if e & 1 == 1 { result = try intValue(checked(result.multipliedReportingOverflow(by: base))) }
                e >>= 1
                if e > 0 { base = try intValue(checked(base.multipliedReportingOverflow(by: base))) }
            }
            return .int(result)
        default: throw budget.typeError("unknown operator \(op)")
        }
    }

    private static func intValue(_ v: TemplateValue) -> Int {
        if case .int(let i) = v { return i }
        return 0
    }

    static func compare(_ op: String, _ l: TemplateValue, _ r: TemplateValue, budget: Budget) throws -> Bool {
        switch op {
        case "==": return try equal(l, r, budget)
        case "!=": return try !equal(l, r, budget)
        case "in": return try contains(r, l, budget)
        case "notin": return try !contains(r, l, budget)
        default: break
        }
        let order = try ordering(l, r, budget)
        switch op {
        case "<": return order < 0
        case "<=": return order <= 0
        case ">": return order > 0
        default: return order >= 0
        }
    }

    /// Python `<` ordering: numbers, strings (by code point), lists lexicographically.
    static func ordering(_ l: TemplateValue, _ r: TemplateValue, _ budget: Budget) throws -> Int {
        if let a = number(l), let b = number(r) {
            if case .int(let x) = a, case .int(let y) = b { return x < y ? -1 : (x > y ? 1 : 0) }
            let x = asDouble(a), y = asDouble(b)
            return x < y ? -1 : (x > y ? 1 : 0)
        }
        switch (l, r) {
        case (.string(let a), .string(let b)):
            if a == b { return 0 }
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : 1
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) {
                try budget.tick(1)
                if try !equal(x, y, budget) { return try ordering(x, y, budget) }
            }
            return a.count < b.count ? -1 : (a.count > b.count ? 1 : 0)
        default:
            if l.isUndefined || r.isUndefined { throw budget.typeError("cannot compare an undefined value") }
            throw budget.typeError("'<' not supported between instances of '\(l.typeName)' and '\(r.typeName)'")
        }
    }

    /// Python `==`, with `1 == 1.0 == True`; two undefined values are equal, as in Jinja.
    static func equal(_ l: TemplateValue, _ r: TemplateValue, _ budget: Budget?) throws -> Bool {
        try budget?.tick(1)
        if let a = number(l), let b = number(r) {
            if case .int(let x) = a, case .int(let y) = b { return x == y }
            return asDouble(a) == asDouble(b)
        }
        switch (l, r) {
        case (.string(let a), .string(let b)): return a == b
        case (.none, .none), (.undefined, .undefined): return true
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where try !equal(x, y, budget) { return false }
            return true
        case (.dict(let a), .dict(let b)):
            guard a.count == b.count else { return false }
            for e in a.entries {
                guard let other = b[e.key], try equal(e.value, other, budget) else { return false }
            }
            return true
        case (.namespace(let a), .namespace(let b)): return a === b
        case (.macro(let a), .macro(let b)): return a === b
        default: return false
        }
    }

    /// Python `needle in container`.
    static func contains(_ container: TemplateValue, _ needle: TemplateValue, _ budget: Budget) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let n) = needle else {
                throw budget.typeError("'in <string>' requires string as left operand, not \(needle.typeName)")
            }
            try budget.tick(s.utf8.count / 64)
            return n.isEmpty || Substring(s).range(of: n) != nil
        case .list(let l), .tuple(let l):
            for item in l where try equal(item, needle, budget) { return true }
            return false
        case .dict(let d):
            if case .string(let k) = needle { return d[k] != nil }
            return false
        case .namespace(let ns):
            if case .string(let k) = needle { return ns.attributes[k] != nil }
            return false
        case .undefined: return false
        default: throw budget.typeError("argument of type '\(container.typeName)' is not iterable")
        }
    }
}

extension TemplateValue: Equatable {
    /// Python equality (`1 == 1.0`, dicts ignore order).
    public static func == (l: TemplateValue, r: TemplateValue) -> Bool {
        (try? Operators.equal(l, r, nil)) ?? false
    }
}
