/// Word splitting shared by the filters. It approximates the spaCy English tokenizer that datatrove uses:
/// split on whitespace, then peel punctuation off both ends of each chunk as separate tokens
/// ("end." → "end", "."; a run of dots stays one token), keeping inner punctuation ("don't", "e-mail", "3.14").
public enum Words {
    /// True for Unicode punctuation and symbols (datatrove's PUNCTUATION_SET covers both).
    @inline(__always)
    public static func isPunctuation(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 {
            let v = s.value
            return (v >= 0x21 && v <= 0x2F) || (v >= 0x3A && v <= 0x40) || (v >= 0x5B && v <= 0x60) || (v >= 0x7B && v <= 0x7E)
        }
        switch s.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation, .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            return true
        default:
            return false
        }
    }

    /// Unicode whitespace, with an ASCII fast path (the property lookup is the splitter's main cost otherwise).
    @inline(__always)
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return s.value == 0x20 || (s.value >= 0x09 && s.value <= 0x0D) }
        return s.properties.isWhitespace
    }

    /// Alphabetic, with an ASCII fast path.
    @inline(__always)
    public static func isLetter(_ s: Unicode.Scalar) -> Bool {
        if s.value < 0x80 { return (s.value | 0x20) >= 0x61 && (s.value | 0x20) <= 0x7A }
        return s.properties.isAlphabetic
    }

    /// Tokens of `text` as described above.
    public static func split(_ text: String) -> [Substring] {
        var tokens: [Substring] = []
        var i = text.startIndex
        let scalars = text.unicodeScalars
        while i < text.endIndex {
            while i < text.endIndex, isSpace(scalars[i]) { i = scalars.index(after: i) }
            if i == text.endIndex { break }
            var j = i
            while j < text.endIndex, !isSpace(scalars[j]) { j = scalars.index(after: j) }
            // Leading punctuation, one token each.
            var a = i
            while a < j, isPunctuation(scalars[a]) {
                let next = scalars.index(after: a)
                tokens.append(text[a..<next]); a = next
            }
            var b = j
            var trailing: [Substring] = []
            while b > a {
                var prev = scalars.index(before: b)
                guard isPunctuation(scalars[prev]) else { break }
                // A run of dots is one token ("..."), as in spaCy.
                if scalars[prev] == "." {
                    while prev > a, scalars[scalars.index(before: prev)] == "." { prev = scalars.index(before: prev) }
                }
                trailing.append(text[prev..<b]); b = prev
            }
            if a < b { tokens.append(text[a..<b]) }
            tokens.append(contentsOf: trailing.reversed())
            i = j
        }
        return tokens
    }

    /// True when every scalar of `word` is punctuation or a symbol.
    public static func isSymbolOnly(_ word: Substring) -> Bool {
        word.unicodeScalars.allSatisfy(isPunctuation)
    }

    /// Lines as Python's `str.splitlines()` sees them for "\n"-normalised text.
    public static func lines(_ text: String) -> [Substring] {
        var result = split(text, omittingEmpty: false)
        if result.last?.isEmpty == true { result.removeLast() }
        return result
    }

    /// `text` split at newlines, scanning UTF-8 bytes (newline is ASCII, so every cut is a valid index).
    public static func split(_ text: String, omittingEmpty: Bool) -> [Substring] {
        var result: [Substring] = []
        let utf8 = text.utf8
        var start = utf8.startIndex
        var i = start
        while i != utf8.endIndex {
            if utf8[i] == 0x0A {
                if !(omittingEmpty && i == start) { result.append(text[start..<i]) }
                start = utf8.index(after: i)
            }
            i = utf8.index(after: i)
        }
        if !(omittingEmpty && start == utf8.endIndex) { result.append(text[start..<utf8.endIndex]) }
        return result
    }
}
