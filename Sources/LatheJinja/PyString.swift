/// Positional-or-keyword argument access for filters, tests, globals and methods, with Python-style errors.
struct Arguments {
    let args: [TemplateValue]
    let kwargs: [(String, TemplateValue)]
    let interpreter: Interpreter
    let offset: Int
    let function: String

    func fail(_ message: String) -> TemplateError { interpreter.error(offset, "\(function): \(message)") }

    /// Argument `index` given positionally, or by `name`; nil when absent.
    func value(_ index: Int, _ name: String) throws -> TemplateValue? {
        if index < args.count { return args[index] }
        return kwargs.last { $0.0 == name }?.1
    }

    func required(_ index: Int, _ name: String) throws -> TemplateValue {
        guard let v = try value(index, name) else { throw fail("missing argument '\(name)'") }
        return v
    }

    func optionalString(_ index: Int, _ name: String) throws -> String? {
        switch try value(index, name) {
        case nil, .none?: return nil
        case .string(let s)?: return s
        case let v?: throw fail("argument '\(name)' must be a string, not \(v.typeName)")
        }
    }

    func int(_ index: Int, _ name: String, default d: Int) throws -> Int {
        switch try value(index, name) {
        case nil, .none?: return d
        case let v?:
            guard let i = Operators.intIndex(v) else { throw fail("argument '\(name)' must be an integer, not \(v.typeName)") }
            return i
        }
    }

    func bool(_ index: Int, _ name: String, default d: Bool) throws -> Bool {
        try value(index, name)?.isTruthy ?? d
    }
}

/// Python `str` algorithms on Unicode scalars (Python indexes by code point, not by grapheme).
enum PyString {
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    static func strip(_ s: String, chars: String?, left: Bool, right: Bool) -> String {
        let set = chars.map { Set($0.unicodeScalars) }
        let drop: (Unicode.Scalar) -> Bool = { c in set.map { $0.contains(c) } ?? isSpace(c) }
        var scalars = Substring(s).unicodeScalars[...]
        if left { while let f = scalars.first, drop(f) { scalars.removeFirst() } }
        if right { while let l = scalars.last, drop(l) { scalars.removeLast() } }
        return String(String.UnicodeScalarView(scalars))
    }

    static func split(_ s: String, sep: String?, maxsplit: Int, fromRight: Bool) -> [String] {
        let scalars = Array(s.unicodeScalars)
        if let sep {
            let sepScalars = Array(sep.unicodeScalars)
            let sepCount = sepScalars.count
            var chosen: [Int]
            if fromRight, maxsplit >= 0 {
                chosen = []
                var i = scalars.count - sepCount
                while i >= 0, chosen.count < maxsplit {
                    if Array(scalars[i..<i + sepCount]) == sepScalars { chosen.insert(i, at: 0); i -= sepCount } else { i -= 1 }
                }
            } else {
                chosen = occurrences(s, sep)
                if maxsplit >= 0 { chosen = Array(chosen.prefix(maxsplit)) }
            }
            var out: [String] = []
            var start = 0
            for p in chosen {
                out.append(String(String.UnicodeScalarView(scalars[start..<p])))
                start = p + sepCount
            }
            out.append(String(String.UnicodeScalarView(scalars[start...])))
            return out
        }
        // Whitespace split: runs of whitespace separate, no empty strings.
        var words: [Range<Int>] = []
        var i = 0
        while i < scalars.count {
            while i < scalars.count, isSpace(scalars[i]) { i += 1 }
            guard i < scalars.count else { break }
            let start = i
            while i < scalars.count, !isSpace(scalars[i]) { i += 1 }
            words.append(start..<i)
        }
        if maxsplit >= 0, maxsplit < words.count - 1 {
            if fromRight {
                let keep = words.suffix(maxsplit)
                let headEnd = words[words.count - maxsplit - 1].upperBound
                let head = String(String.UnicodeScalarView(scalars[words[0].lowerBound..<headEnd]))
                return [head] + keep.map { String(String.UnicodeScalarView(scalars[$0])) }
            }
            let keep = words.prefix(maxsplit)
            var tailStart = words[maxsplit].lowerBound
            while tailStart < scalars.count, isSpace(scalars[tailStart]) { tailStart += 1 }
            var tail = String(String.UnicodeScalarView(scalars[tailStart...]))
            tail = strip(tail, chars: nil, left: false, right: true)
            return keep.map { String(String.UnicodeScalarView(scalars[$0])) } + [tail]
        }
        return words.map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    /// Start positions (in scalars) of non-overlapping occurrences, left to right.
    static func occurrences(_ s: String, _ sub: String) -> [Int] {
        let a = Array(s.unicodeScalars), b = Array(sub.unicodeScalars)
        guard !b.isEmpty else { return Array(0...a.count) }
        var out: [Int] = []
        var i = 0
        while i + b.count <= a.count {
            if a[i] == b[0], Array(a[i..<i + b.count]) == b { out.append(i); i += b.count } else { i += 1 }
        }
        return out
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int) -> String {
        let a = Array(s.unicodeScalars)
        if old.isEmpty {
            var out = String.UnicodeScalarView()
            var n = 0
            for c in a {
                if count < 0 || n < count { out.append(contentsOf: new.unicodeScalars); n += 1 }
                out.append(c)
            }
            if count < 0 || n < count { out.append(contentsOf: new.unicodeScalars) }
            return String(out)
        }
        var positions = occurrences(s, old)
        if count >= 0 { positions = Array(positions.prefix(count)) }
        var out = String.UnicodeScalarView()
        var start = 0
        let n = old.unicodeScalars.count
        for p in positions {
            out.append(contentsOf: a[start..<p])
            out.append(contentsOf: new.unicodeScalars)
            start = p + n
        }
        out.append(contentsOf: a[start...])
        return String(out)
    }

    static func splitlines(_ s: String) -> [String] {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        var previousCR = false
        for c in s.unicodeScalars {
            if previousCR, c == "\n" { previousCR = false; continue }
            previousCR = false
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                out.append(String(current))
                current = String.UnicodeScalarView()
                previousCR = c == "\r"
            default: current.append(c)
            }
        }
        if !current.isEmpty { out.append(String(current)) }
        return out
    }

    /// Python `str.title()`: a letter after a non-letter is upper-cased, other letters lower-cased.
    static func title(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let ch = String(c)
            let isCased = c.properties.isCased
            out += previousCased ? ch.lowercased() : ch.uppercased()
            previousCased = isCased
        }
        return out
    }

    /// Python `str.capitalize()`: first character upper-cased, the rest lower-cased.
    static func capitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return s }
        return String(first).uppercased() + String(String.UnicodeScalarView(s.unicodeScalars.dropFirst())).lowercased()
    }

    /// `str.format` with `{}`, `{0}` and `{name}` fields (no format specs).
    static func braceFormat(_ s: String, _ a: Arguments) throws -> String {
        var out = ""
        var auto = 0
        var it = Array(s.unicodeScalars)[...]
        while let c = it.popFirst() {
            if c == "{" {
                if it.first == "{" { it.removeFirst(); out += "{"; continue }
                var field = ""
                while let d = it.popFirst(), d != "}" { field.unicodeScalars.append(d) }
                let v: TemplateValue?
                if field.isEmpty { v = auto < a.args.count ? a.args[auto] : nil; auto += 1 }
                else if let i = Int(field) { v = i < a.args.count ? a.args[i] : nil }
                else { v = a.kwargs.last { $0.0 == field }?.1 }
                guard let v else { throw a.fail("no value for replacement field '{\(field)}'") }
                var f = a.interpreter.formatter
                out += try f.str(v)
                try a.interpreter.budget.checkSize(out)
            } else if c == "}" {
                if it.first == "}" { it.removeFirst() }
                out += "}"
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return out
    }
}
