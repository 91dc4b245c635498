/// Conversions from JSON text and from Swift values into `TemplateValue`.
///
/// JSON objects keep their key order (as Python's `json.loads` does), which `tojson` and `items()` expose.
extension TemplateValue {
    /// Parses JSON text; integers without a fraction or exponent become `.int`, as in Python.
    public init(json text: String) throws {
        var parser = JSONReader(bytes: Array(text.utf8))
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.pos == parser.bytes.count else { throw parser.fail("unexpected text after the JSON value") }
        self = value
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

/// A small strict JSON reader over UTF-8 bytes.
struct JSONReader {
    let bytes: [UInt8]
    var pos = 0

    func fail(_ message: String) -> TemplateError {
        .syntax(line: 1, column: pos + 1, message: "JSON: \(message)")
    }

    mutating func skipSpace() {
        while pos < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[pos]) { pos += 1 }
    }

    mutating func value(depth: Int) throws -> TemplateValue {
        guard depth < 512 else { throw fail("nesting deeper than 512") }
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"):
            pos += 1
            var dict = TemplateDict()
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(dict) }
            while true {
                skipSpace()
                guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw fail("expected a key string") }
                let key = try string()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                dict[key] = try value(depth: depth + 1)
                skipSpace()
                if try endOrComma(UInt8(ascii: "}")) { return .dict(dict) }
            }
        case UInt8(ascii: "["):
            pos += 1
            var list: [TemplateValue] = []
            skipSpace()
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .list(list) }
            while true {
                skipSpace()
                list.append(try value(depth: depth + 1))
                skipSpace()
                if try endOrComma(UInt8(ascii: "]")) { return .list(list) }
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .none
        default: return try number()
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        guard pos < bytes.count, bytes[pos] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
        pos += 1
    }

    private mutating func endOrComma(_ close: UInt8) throws -> Bool {
        guard pos < bytes.count else { throw fail("unexpected end of input") }
        if bytes[pos] == close { pos += 1; return true }
        try expect(UInt8(ascii: ","))
        return false
    }

    private mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else { throw fail("invalid literal") }
        pos += w.count
    }

    private mutating func number() throws -> TemplateValue {
        let start = pos
        var isFloat = false
        while pos < bytes.count {
            let b = bytes[pos]
            if (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") {
                pos += 1
            } else if b == UInt8(ascii: ".") || b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                isFloat = true
                pos += 1
            } else { break }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if !isFloat, let i = Int(text) { return .int(i) }
        guard !text.isEmpty, let d = Double(text) else { throw fail("invalid number '\(text)'") }
        return .double(d)
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count,
              let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
        else { throw fail("invalid \\u escape") }
        pos += 4
        return v
    }

    mutating func string() throws -> String {
        pos += 1  // opening quote
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw fail("unterminated string") }
            let b = bytes[pos]
            pos += 1
            if b == UInt8(ascii: "\"") { break }
            if b != UInt8(ascii: "\\") { out.append(b); continue }
            guard pos < bytes.count else { throw fail("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"),
                   bytes[pos + 1] == UInt8(ascii: "u") {
                    pos += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else { pos -= 6 }
                }
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
