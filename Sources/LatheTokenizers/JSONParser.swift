/// A strict JSON parser over UTF-8 bytes (RFC 8259). Hand-written because `tokenizer.json` files are megabytes
/// of strings, which Foundation's decoders parse slowly, and corelibs' `JSONSerialization` drops U+FEFF.
struct JSONParser {
    private let p: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var depth = 0

    /// Parses a whole document; `file` names it in errors, which give the byte offset.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, file: String) throws -> JSON {
        var parser = JSONParser(p: bytes)
        do {
            let value = try parser.value()
            parser.skipSpace()
            guard parser.i == bytes.count else { throw parser.error("unexpected text after the JSON value") }
            return value
        } catch let e as Failure {
            throw TokenizerError.malformed(file: file, path: "$", message: "not valid JSON at byte \(e.offset): \(e.message)")
        }
    }

    private struct Failure: Error { let offset: Int; let message: String }

    private init(p: UnsafeBufferPointer<UInt8>) { self.p = p }

    private func error(_ message: String) -> Failure { Failure(offset: i, message: message) }

    private mutating func skipSpace() {
        while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
    }

    private mutating func value() throws -> JSON {
        skipSpace()
        guard i < p.count else { throw error("unexpected end of input") }
        switch p[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= p.count else { throw error("unexpected end of input") }
        for k in 0..<n where p[i + k] != word.utf8Start[k] { throw error("unexpected character") }
        i += n
    }

    private mutating func object() throws -> JSON {
        depth += 1
        guard depth < 512 else { throw error("nesting deeper than 512") }
        defer { depth -= 1 }
        i += 1
        var members = [String: JSON]()
        skipSpace()
        if i < p.count && p[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < p.count, p[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipSpace()
            guard i < p.count, p[i] == UInt8(ascii: ":") else { throw error("expected ':'") }
            i += 1
            members[key] = try value()
            skipSpace()
            guard i < p.count else { throw error("unexpected end of input") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    private mutating func array() throws -> JSON {
        depth += 1
        guard depth < 512 else { throw error("nesting deeper than 512") }
        defer { depth -= 1 }
        i += 1
        var items = [JSON]()
        skipSpace()
        if i < p.count && p[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            items.append(try value())
            skipSpace()
            guard i < p.count else { throw error("unexpected end of input") }
            if p[i] == UInt8(ascii: ",") { i += 1; continue }
            if p[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    private mutating func string() throws -> String {
        i += 1
        let start = i
        while i < p.count && p[i] != UInt8(ascii: "\"") && p[i] != UInt8(ascii: "\\") && p[i] >= 0x20 { i += 1 }
        guard i < p.count else { throw error("unterminated string") }
        if p[i] == UInt8(ascii: "\"") {
            let s = try utf8(start..<i)
            i += 1
            return s
        }
        var bytes = Array(p[start..<i])
        while true {
            guard i < p.count else { throw error("unterminated string") }
            let b = p[i]
            if b == UInt8(ascii: "\"") { i += 1; break }
            guard b >= 0x20 else { throw error("control character in a string") }
            if b != UInt8(ascii: "\\") { bytes.append(b); i += 1; continue }
            guard i + 1 < p.count else { throw error("unterminated escape") }
            i += 2
            switch p[i - 1] {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 1 < p.count, p[i] == UInt8(ascii: "\\"), p[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("unpaired surrogate") }
                bytes.append(contentsOf: Array(String(scalar).utf8))
            default: throw error("unknown escape")
            }
        }
        guard let s = String(validating: bytes, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
        return s
    }

    private func utf8(_ range: Range<Int>) throws -> String {
        guard let s = String(validating: UnsafeBufferPointer(rebasing: p[range]), as: UTF8.self) else {
            throw Failure(offset: range.lowerBound, message: "invalid UTF-8 in a string")
        }
        return s
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= p.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = p[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("bad hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private mutating func number() throws -> Double {
        let start = i
        while i < p.count, let c = Optional(p[i]),
              (0x30...0x39).contains(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".")
                || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { i += 1 }
        guard i > start, let d = Double(String(decoding: UnsafeBufferPointer(rebasing: p[start..<i]), as: UTF8.self)) else {
            throw error("unexpected character")
        }
        return d
    }
}
