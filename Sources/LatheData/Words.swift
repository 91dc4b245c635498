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

    /// Tokens of `text` as described above. Scans the UTF-8 bytes (ASCII without a property lookup) and cuts the
    /// tokens at scalar boundaries.
    public static func split(_ text: String) -> [Substring] {
        var tokens: [Substring] = []
        var contiguous = text
        contiguous.makeContiguousUTF8()
        contiguous.withUTF8 { split($0, of: text, into: &tokens) }
        return tokens
    }

    /// `split` over the UTF-8 bytes `s` of `text`. The state lives in locals (no captured variables), so the loop
    /// runs without dynamic exclusivity checks.
    private static func split(_ s: UnsafeBufferPointer<UInt8>, of text: String, into tokens: inout [Substring]) {
        let utf8 = text.utf8
        var cuts: [Int] = []   // starts of the trailing punctuation tokens of a chunk, last token first
        let n = s.count
        var i = 0
        while i < n {
            while i < n {
                let (scalar, length) = decode(s, i)
                if !isSpace(scalar) { break }
                i += length
            }
            if i == n { break }
            var j = i
            while j < n {
                let (scalar, length) = decode(s, j)
                if isSpace(scalar) { break }
                j += length
            }
            // Leading punctuation, one token each.
            var a = i
            while a < j {
                let (scalar, length) = decode(s, a)
                guard isPunctuation(scalar) else { break }
                tokens.append(text[utf8.index(utf8.startIndex, offsetBy: a) ..< utf8.index(utf8.startIndex, offsetBy: a + length)])
                a += length
            }
            // Trailing punctuation, one token each, cut from the end.
            var b = j
            cuts.removeAll(keepingCapacity: true)
            while b > a {
                var previous = start(s, before: b)
                guard isPunctuation(decode(s, previous).0) else { break }
                // A run of dots is one token ("..."), as in spaCy.
                if s[previous] == UInt8(ascii: ".") {
                    while previous > a, s[previous - 1] == UInt8(ascii: ".") { previous -= 1 }
                }
                cuts.append(previous); b = previous
            }
            if a < b { tokens.append(text[utf8.index(utf8.startIndex, offsetBy: a) ..< utf8.index(utf8.startIndex, offsetBy: b)]) }
            for k in cuts.indices.reversed() {
                let end = k == 0 ? j : cuts[k - 1]
                tokens.append(text[utf8.index(utf8.startIndex, offsetBy: cuts[k]) ..< utf8.index(utf8.startIndex, offsetBy: end)])
            }
            i = j
        }
    }

    /// The scalar starting at byte `i` of valid UTF-8, and its length in bytes.
    @inline(__always)
    static func decode(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> (Unicode.Scalar, Int) {
        let lead = s[i]
        if lead < 0x80 { return (Unicode.Scalar(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2
        var value = UInt32(lead) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
        for k in 1..<length { value = value << 6 | UInt32(s[i + k] & 0x3F) }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    /// The first byte of the scalar that ends just before byte `i` of valid UTF-8.
    @inline(__always)
    static func start(_ s: UnsafeBufferPointer<UInt8>, before i: Int) -> Int {
        var k = i - 1
        while k > 0, s[k] & 0xC0 == 0x80 { k -= 1 }
        return k
    }

    /// Unicode scalars in `text` (`text.unicodeScalars.count`): its UTF-8 bytes that do not continue a scalar.
    @inline(__always)
    public static func scalarCount<S: StringProtocol>(_ text: S) -> Int {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            var n = 0
            for b in bytes where b & 0xC0 != 0x80 { n += 1 }
            return n
        } ?? text.unicodeScalars.count
    }

    /// True when every scalar of `word` is punctuation or a symbol (ASCII words decided from their bytes).
    public static func isSymbolOnly(_ word: Substring) -> Bool {
        let ascii = word.utf8.withContiguousStorageIfAvailable { bytes -> Bool? in
            for b in bytes {
                if b >= 0x80 { return nil }
                if !isPunctuation(Unicode.Scalar(b)) { return false }
            }
            return true
        }
        if let decided = ascii ?? nil { return decided }
        return word.unicodeScalars.allSatisfy(isPunctuation)
    }

    /// True when `word` holds a letter (`isLetter`; ASCII words decided from their bytes).
    public static func hasLetter(_ word: Substring) -> Bool {
        let ascii = word.utf8.withContiguousStorageIfAvailable { bytes -> Bool? in
            for b in bytes {
                if b >= 0x80 { return nil }
                if (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A { return true }
            }
            return false
        }
        if let decided = ascii ?? nil { return decided }
        return word.unicodeScalars.contains(where: isLetter)
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
