/// The one reader of untrusted JSON in Lathe: a strict RFC 8259 parser for tokenizer.json, config.json,
/// tokenizer_config.json, adapter_config.json, safetensors headers and shard indexes, JSONL data records,
/// task data and run files.
///
/// Strict means: invalid UTF-8, lone surrogate escapes, trailing commas, comments, NaN and a byte-order mark are
/// errors; an object holding a key twice is an error naming the key and the byte offset of its second occurrence
/// (keys compare by bytes, so "é" and "e\u{301}" are different keys, as they are different tokens); nesting
/// deeper than `maxDepth` is an error. Objects keep their keys in file order and numbers keep their source text,
/// so a value is written back byte for byte. Memory is bounded by the input: every value is built from bytes it
/// consumed, no capacity is reserved from a count the file claims, and the recursion is at most `maxDepth` deep.
public struct JSONParser {
    /// Deepest array/object nesting accepted: serde_json's limit, which Hugging Face `tokenizers` applies to
    /// tokenizer.json, so no file that transformers reads is refused.
    public static let maxDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private var i = 0
    private var depth = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Parses one JSON value filling the whole buffer (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes)
        if let bad = UTF8Validation.firstInvalidByte(bytes) {
            var e = parser.error("invalid UTF-8", at: bad)
            e.kind = .invalidUTF8
            throw e
        }
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.i != bytes.count { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// Parses a byte buffer.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        try parse(UnsafeRawBufferPointer(bytes))
    }

    private func error(_ message: String, at offset: Int? = nil) -> JSONError {
        let at = min(offset ?? i, bytes.count)
        var line = 1, lineStart = 0
        for k in 0 ..< at where bytes[k] == UInt8(ascii: "\n") {
            line += 1
            lineStart = k + 1
        }
        var e = JSONError(offset: at, line: line, column: at - lineStart + 1, message: message)
        e.endOfInput = at >= bytes.count
        return e
    }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            let b = bytes[i]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            i += 1
        }
    }

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard i < bytes.count else { throw error("unexpected end of text, expected a value") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return .array(try parseArray())
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0") ... UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Self.printable(bytes[i]))', expected a value")
        }
    }

    private mutating func expectWord(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        for k in 0 ..< n {
            guard i + k < bytes.count else { i += k; throw error("unexpected end of text in a literal") }
            if bytes[i + k] != word.utf8Start[k] { i += k; throw error("invalid literal, expected '\(word)'") }
        }
        i += n
    }

    private mutating func enter() throws(JSONError) {
        depth += 1
        if depth > Self.maxDepth {
            var e = error("nesting deeper than \(Self.maxDepth) levels (JSONParser.maxDepth, the serde_json limit that Hugging Face tokenizers applies too; flatten the document)")
            e.kind = .tooDeep
            throw e
        }
    }

    private mutating func parseObject() throws(JSONError) -> JSONObject {
        try enter()
        defer { depth -= 1 }
        i += 1
        var object = JSONObject()
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return object }
        while true {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyOffset = i
            let key = try parseString()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            i += 1
            skipWhitespace()
            let value = try parseValue()
            guard object.insertNew(key, value) else {
                var duplicate = error("duplicate key \"\(key)\" (a key may occur once per object)", at: keyOffset)
                duplicate.kind = .duplicateKey
                duplicate.duplicateKey = key
                throw duplicate
            }
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of text in an object") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return object }
            throw error("expected ',' or '}' in an object")
        }
    }

    private mutating func parseArray() throws(JSONError) -> [JSONValue] {
        try enter()
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return items }
        while true {
            skipWhitespace()
            items.append(try parseValue())
            skipWhitespace()
            guard i < bytes.count else { throw error("unexpected end of text in an array") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return items }
            throw error("expected ',' or ']' in an array")
        }
    }

    private mutating func digits() -> Int {
        let start = i
        while i < bytes.count, bytes[i] &- UInt8(ascii: "0") < 10 { i += 1 }
        return i - start
    }

    private mutating func parseNumber() throws(JSONError) -> JSONNumber {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw error("unexpected end of text in a number") }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            throw error("invalid number")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            if digits() == 0 { throw error("invalid number: no digits after '.'") }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            if digits() == 0 { throw error("invalid number: no exponent digits") }
        }
        return JSONNumber(literal: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start ..< i]), as: UTF8.self))
    }

    private mutating func parseString() throws(JSONError) -> String {
        let open = i
        i += 1
        let start = i
        // Fast path: no escapes, so the string is the raw bytes (already checked to be UTF-8).
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start ..< i - 1]), as: UTF8.self)
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error("unescaped control character in a string") }
            i += 1
        }
        guard i < bytes.count else { throw error("unterminated string (opened at byte \(open))") }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start ..< i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw error("unescaped control character in a string") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"): try appendUnicodeEscape(to: &out)
            default: throw error("invalid escape '\\\(Self.printable(e))'", at: i - 2)
            }
        }
        throw error("unterminated string (opened at byte \(open))")
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uDC00`–`\uDFFF` that must follow it.
    private mutating func appendUnicodeEscape(to out: inout [UInt8]) throws(JSONError) {
        var scalar = try hex4()
        if scalar >= 0xDC00, scalar <= 0xDFFF { throw error("lone low surrogate escape", at: i - 6) }
        if scalar >= 0xD800, scalar <= 0xDBFF {
            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                throw error("high surrogate escape not followed by a low surrogate", at: i - 6)
            }
            i += 2
            let low = try hex4()
            guard low >= 0xDC00, low <= 0xDFFF else { throw error("invalid low surrogate escape", at: i - 6) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        // Encode the scalar (never a surrogate here) as UTF-8.
        switch scalar {
        case 0 ..< 0x80: out.append(UInt8(scalar))
        case 0x80 ..< 0x800:
            out.append(UInt8(0xC0 | scalar >> 6)); out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800 ..< 0x10000:
            out.append(UInt8(0xE0 | scalar >> 12)); out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18)); out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F)); out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0 ..< 4 {
            guard i < bytes.count else { throw error("unexpected end of text in a \\u escape") }
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0") ... UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a") ... UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A") ... UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    private static func printable(_ b: UInt8) -> String {
        b >= 0x20 && b < 0x7F ? String(UnicodeScalar(b)) : "\\x" + String(b, radix: 16)
    }
}

extension JSONValue {
    /// Parses a complete JSON text (RFC 8259, strict); see `JSONParser`.
    public static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> JSONValue in try JSONParser.parse(raw) }
        }
        return try result.get()
    }

    /// Parses a complete JSON text given as a string.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }
}
