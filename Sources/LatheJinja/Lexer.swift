/// One lexical token of a template, with the byte offset where it starts.
struct Token {
    enum Kind: Equatable {
        case text(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case int(Int)
        case float(Double)
        case op(String)
        case eof
    }
    let kind: Kind
    let offset: Int
}

/// Maps byte offsets of the (newline-normalised) source to 1-based line and column.
struct SourceMap {
    private var lineStarts: [Int] = [0]
    init(_ bytes: [UInt8]) {
        for (i, b) in bytes.enumerated() where b == 0x0A { lineStarts.append(i + 1) }
    }
    func position(_ offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return (lo + 1, offset - lineStarts[lo] + 1)
    }
}

/// Splits a template into text and tag tokens with Jinja's lexer rules under transformers' environment:
/// `trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False` (jinja2/lexer.py `tokeniter`).
struct Lexer {
    let bytes: [UInt8]
    let map: SourceMap
    private var pos = 0
    private var tokens: [Token] = []
    private var lineStarting = true
    /// The whitespace sign of the last `%}` (`-`, `+` or nil); Jinja's raw-begin rule does not accept `+%}`.
    private var lastBlockEndSign: UInt8? = nil

    /// Normalises newlines (`\r\n`, `\r` → `\n`) and drops one trailing newline, as Jinja does.
    static func normalise(_ source: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(source.utf8.count)
        var it = Array(source.utf8)
        var i = 0
        while i < it.count {
            if it[i] == 0x0D {
                out.append(0x0A)
                if i + 1 < it.count, it[i + 1] == 0x0A { i += 1 }
            } else { out.append(it[i]) }
            i += 1
        }
        if out.last == 0x0A { out.removeLast() }
        it = []
        return out
    }

    init(source: String) {
        bytes = Lexer.normalise(source)
        map = SourceMap(bytes)
    }

    func error(_ offset: Int, _ message: String) -> TemplateError {
        let p = map.position(offset)
        return .syntax(line: p.line, column: p.column, message: message)
    }

    private func at(_ i: Int, _ s: String) -> Bool {
        var j = i
        for b in s.utf8 {
            guard j < bytes.count, bytes[j] == b else { return false }
            j += 1
        }
        return true
    }

    /// Decodes the scalar starting at byte `i` of valid UTF-8: its value and byte length.
    private func scalar(at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(bytes[i])
        let n = b0 < 0x80 ? 1 : (b0 >= 0xF0 ? 4 : (b0 >= 0xE0 ? 3 : 2))
        guard n > 1, i + n <= bytes.count else { return (b0, 1) }
        var v = b0 & (0xFF >> (n + 1))
        for k in 1..<n { v = v << 6 | UInt32(bytes[i + k] & 0x3F) }
        return (v, n)
    }

    /// Byte length of the Python whitespace character (`str.isspace`) at `i`, or nil.
    func spaceLength(at i: Int) -> Int? {
        guard i < bytes.count else { return nil }
        let (v, n) = scalar(at: i)
        return Unicode.Scalar(v).map(PyString.isSpace) == true ? n : nil
    }

    /// Byte length of the Python whitespace character that ends just before `i` (not before `floor`), or nil.
    func spaceLength(before i: Int, floor: Int) -> Int? {
        guard i > floor else { return nil }
        var j = i - 1
        while j > floor, bytes[j] & 0xC0 == 0x80 { j -= 1 }
        let (v, n) = scalar(at: j)
        return j + n == i && Unicode.Scalar(v).map(PyString.isSpace) == true ? n : nil
    }

    /// Where the text `from..<end` before a tag ends: without trailing whitespace for `{%-`, or, when `lstrip`
    /// applies, without the whitespace between the last newline and the tag (`lstrip_blocks`).
    private func strippedEnd(from: Int, end: Int, sign: UInt8?, lstrip: Bool) -> Int {
        var textEnd = end
        if sign == UInt8(ascii: "-") {
            while let n = spaceLength(before: textEnd, floor: from) { textEnd -= n }
        } else if sign != UInt8(ascii: "+"), lstrip {
            var lineStart = textEnd
            while lineStart > from, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
            let atLineStart = lineStart > from || lineStarting
            var j = lineStart
            while j < textEnd, let n = spaceLength(at: j) { j += n }
            if atLineStart, lineStart < textEnd, j == textEnd { textEnd = lineStart }
        }
        return textEnd
    }

    /// Tokenises the whole template.
    mutating func tokenize() throws -> [Token] {
        while pos < bytes.count {
            // Find the next tag opening.
            var open = pos
            var kind: UInt8 = 0
            while open + 1 < bytes.count {
                if bytes[open] == UInt8(ascii: "{") {
                    let n = bytes[open + 1]
                    if n == UInt8(ascii: "{") || n == UInt8(ascii: "%") || n == UInt8(ascii: "#") { kind = n; break }
                }
                open += 1
            }
            if kind == 0 {
                emitText(pos, bytes.count)
                break
            }
            var afterOpen = open + 2
            let sign: UInt8? = afterOpen < bytes.count && (bytes[afterOpen] == UInt8(ascii: "-")
                || bytes[afterOpen] == UInt8(ascii: "+")) ? bytes[afterOpen] : nil
            if sign != nil { afterOpen += 1 }
            // lstrip_blocks applies to block and comment tags, not to `{{`.
            emitText(pos, strippedEnd(from: pos, end: open, sign: sign, lstrip: kind != UInt8(ascii: "{")))
            if kind == UInt8(ascii: "#") {
                try lexComment(open: open, from: afterOpen)
            } else {
                try lexTag(open: open, from: afterOpen, isBlock: kind == UInt8(ascii: "%"))
                if isBlock(tokens.suffix(3), named: "raw"), lastBlockEndSign != UInt8(ascii: "+") {
                    tokens.removeLast(3)
                    try lexRaw(open: open)
                }
            }
        }
        tokens.append(Token(kind: .eof, offset: bytes.count))
        return tokens
    }

    private mutating func emitText(_ start: Int, _ end: Int) {
        if end > start {
            tokens.append(Token(kind: .text(String(decoding: bytes[start..<end], as: UTF8.self)), offset: start))
        }
    }

    /// Skips a comment; `-#}` strips following whitespace, `#}` drops one newline (trim_blocks).
    private mutating func lexComment(open: Int, from: Int) throws {
        var j = from
        while j + 1 < bytes.count, !(bytes[j] == UInt8(ascii: "#") && bytes[j + 1] == UInt8(ascii: "}")) { j += 1 }
        guard j + 1 < bytes.count else { throw error(open, "missing end of comment tag '#}'") }
        let marker: UInt8? = j > from ? bytes[j - 1] : nil
        pos = j + 2
        closeTag(sign: marker == UInt8(ascii: "-") || marker == UInt8(ascii: "+") ? marker : nil, trimNewline: true)
    }

    /// Applies the whitespace rule after a tag end and records whether the next text starts a line.
    private mutating func closeTag(sign: UInt8?, trimNewline: Bool) {
        let start = pos
        if sign == UInt8(ascii: "-") {
            while let n = spaceLength(at: pos) { pos += n }
        } else if sign == nil, trimNewline, pos < bytes.count, bytes[pos] == 0x0A {
            pos += 1
        }
        lineStarting = pos > start ? bytes[pos - 1] == 0x0A : false
    }

    private func isBlock(_ t: ArraySlice<Token>, named name: String) -> Bool {
        t.map(\.kind) == [.blockBegin, .name(name), .blockEnd]
    }

    /// `{% raw %}...{% endraw %}`: the body is text; the endraw tag keeps the usual whitespace rules.
    private mutating func lexRaw(open: Int) throws {
        var i = pos
        while i + 1 < bytes.count {
            defer { i += 1 }
            guard bytes[i] == UInt8(ascii: "{"), bytes[i + 1] == UInt8(ascii: "%") else { continue }
            var j = i + 2
            let sign: UInt8? = j < bytes.count && (bytes[j] == UInt8(ascii: "-") || bytes[j] == UInt8(ascii: "+")) ? bytes[j] : nil
            if sign != nil { j += 1 }
            while let n = spaceLength(at: j) { j += n }
            guard at(j, "endraw") else { continue }
            j += 6
            while let n = spaceLength(at: j) { j += n }
            var endSign: UInt8? = nil
            if at(j, "-%}") || at(j, "+%}") { endSign = bytes[j]; j += 1 }
            guard at(j, "%}") else { continue }
            emitText(pos, strippedEnd(from: pos, end: i, sign: sign, lstrip: true))
            pos = j + 2
            closeTag(sign: endSign, trimNewline: true)
            return
        }
        throw error(open, "missing end of raw directive '{% endraw %}'")
    }

    private mutating func lexTag(open: Int, from: Int, isBlock: Bool) throws {
        tokens.append(Token(kind: isBlock ? .blockBegin : .variableBegin, offset: open))
        pos = from
        var balance: [UInt8] = []
        let close = isBlock ? "%}" : "}}"
        while true {
            while let n = spaceLength(at: pos) { pos += n }
            guard pos < bytes.count else {
                throw error(open, "unexpected end of template: the tag opened here is not closed with '\(close)'")
            }
            if balance.isEmpty {
                var sign: UInt8? = nil
                var matched = false
                if at(pos, "-" + close) { sign = UInt8(ascii: "-"); matched = true }
                else if isBlock, at(pos, "+" + close) { sign = UInt8(ascii: "+"); matched = true }
                else if at(pos, close) { matched = true }
                if matched {
                    tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, offset: pos))
                    pos += 2 + (sign == nil ? 0 : 1)
                    lastBlockEndSign = sign
                    // Jinja's raw-begin rule has no trim_blocks suffix: `{% raw %}` keeps its newline.
                    let rawBegin = self.isBlock(tokens.suffix(3), named: "raw") && sign != UInt8(ascii: "+")
                    closeTag(sign: sign, trimNewline: isBlock && !rawBegin)
                    return
                }
            }
            try lexExpressionToken(&balance)
        }
    }

    private mutating func lexExpressionToken(_ balance: inout [UInt8]) throws {
        let start = pos
        let b = bytes[pos]
        if b == UInt8(ascii: "_") || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) {
            while pos < bytes.count, bytes[pos] == UInt8(ascii: "_") || isAlnum(bytes[pos]) { pos += 1 }
            tokens.append(Token(kind: .name(String(decoding: bytes[start..<pos], as: UTF8.self)), offset: start))
            return
        }
        if isDigit(b) {
            tokens.append(Token(kind: try lexNumber(), offset: start))
            return
        }
        if b == UInt8(ascii: "'") || b == UInt8(ascii: "\"") {
            tokens.append(Token(kind: .string(try lexString(quote: b)), offset: start))
            return
        }
        for op in ["//", "**", "==", "!=", "<=", ">="] where at(pos, op) {
            pos += 2
            tokens.append(Token(kind: .op(op), offset: start))
            return
        }
        let single = "+-/*%~[](){}<>=.:|,;"
        guard b < 0x80, single.utf8.contains(b) else {
            throw error(start, "unexpected character '\(String(decoding: [b], as: UTF8.self))' in a tag")
        }
        pos += 1
        switch b {
        case UInt8(ascii: "("): balance.append(UInt8(ascii: ")"))
        case UInt8(ascii: "["): balance.append(UInt8(ascii: "]"))
        case UInt8(ascii: "{"): balance.append(UInt8(ascii: "}"))
        case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
            guard let expected = balance.popLast() else { throw error(start, "unexpected '\(Character(Unicode.Scalar(b)))'") }
            guard expected == b else {
                throw error(start, "unexpected '\(Character(Unicode.Scalar(b)))', expected '\(Character(Unicode.Scalar(expected)))'")
            }
        default: break
        }
        tokens.append(Token(kind: .op(String(Character(Unicode.Scalar(b)))), offset: start))
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private func isAlnum(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z"))
    }

    private mutating func lexNumber() throws -> Token.Kind {
        let start = pos
        var isFloat = false
        while pos < bytes.count, isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") { pos += 1 }
        if pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "."), isDigit(bytes[pos + 1]) {
            isFloat = true
            pos += 1
            while pos < bytes.count, isDigit(bytes[pos]) || bytes[pos] == UInt8(ascii: "_") { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] | 0x20 == UInt8(ascii: "e") {
            var j = pos + 1
            if j < bytes.count, bytes[j] == UInt8(ascii: "+") || bytes[j] == UInt8(ascii: "-") { j += 1 }
            if j < bytes.count, isDigit(bytes[j]) {
                isFloat = true
                pos = j
                while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
            }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self).replacingOccurrences("_", "")
        if !isFloat {
            guard let i = Int(text) else { throw error(start, "integer literal \(text) is too large") }
            return .int(i)
        }
        guard let d = Double(text) else { throw error(start, "invalid number \(text)") }
        return .float(d)
    }

    /// A quoted string with Python's backslash escapes (Jinja decodes them with `unicode-escape`).
    private mutating func lexString(quote: UInt8) throws -> String {
        let start = pos
        pos += 1
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error(start, "unterminated string literal") }
            let b = bytes[pos]
            pos += 1
            if b == quote { break }
            if b != UInt8(ascii: "\\") { out.append(b); continue }
            guard pos < bytes.count else { throw error(start, "unterminated string literal") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "0"): out.append(0x00)
            case 0x0A: break  // backslash-newline continues the line
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let n = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                guard pos + n <= bytes.count,
                      let code = UInt32(String(decoding: bytes[pos..<pos + n], as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code)
                else { throw error(pos - 2, "invalid \\\(Character(Unicode.Scalar(e))) escape in a string literal") }
                pos += n
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
