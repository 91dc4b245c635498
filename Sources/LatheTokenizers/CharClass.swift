/// Unicode classes the pre-tokenizer patterns test, as bit flags per scalar.
/// Mirrors the regex classes HF uses (Oniguruma): `\p{L}`, `\p{N}`, `\s` (White_Space), `\w`, Rust's `is_punctuation`.
struct CharClass: OptionSet, Sendable {
    let rawValue: UInt8
    /// `\p{L}`: general category Lu, Ll, Lt, Lm, Lo.
    static let letter = CharClass(rawValue: 1)
    /// `\p{N}`: Nd, Nl, No (Rust `char::is_numeric`).
    static let number = CharClass(rawValue: 2)
    /// `\s`: the White_Space property (Rust `char::is_whitespace`).
    static let space = CharClass(rawValue: 4)
    /// Rust `is_ascii_punctuation() || is_punctuation()`: ASCII punctuation and symbols, and P* categories.
    static let punctuation = CharClass(rawValue: 8)
    /// Oniguruma `\w` (Unicode TR18): Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
    static let word = CharClass(rawValue: 16)
    /// Rust `char::is_alphanumeric`: Alphabetic or numeric.
    static let alphanumeric = CharClass(rawValue: 32)

    /// Scalars below this use the precomputed table; the rest are classified on demand.
    static let tableLimit: UInt32 = 0x20000

    /// The class of scalar value `v` (which must be a valid scalar).
    @inline(__always) static func of(_ v: UInt32) -> CharClass {
        if v < tableLimit { return CharClass(rawValue: charClassTable[Int(v)]) }  // a plain load, no refcount
        return compute(v)
    }

    static func compute(_ v: UInt32) -> CharClass {
        guard let scalar = Unicode.Scalar(v) else { return [] }
        var c: CharClass = []
        let props = scalar.properties
        switch props.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            c.formUnion([.letter, .word])
        case .decimalNumber: c.formUnion([.number, .word])
        case .letterNumber, .otherNumber: c.insert(.number)
        case .nonspacingMark, .spacingMark, .enclosingMark: c.insert(.word)
        case .connectorPunctuation: c.formUnion([.punctuation, .word])
        case .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation:
            c.insert(.punctuation)
        default: break
        }
        if v < 0x80, (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v)
            || (0x7B...0x7E).contains(v) {
            c.insert(.punctuation)
        }
        if props.isWhitespace { c.insert(.space) }
        if props.isAlphabetic || c.contains(.number) { c.insert(.alphanumeric) }
        if props.isAlphabetic || props.isJoinControl { c.insert(.word) }
        return c
    }
}

/// One byte of flags per scalar below `CharClass.tableLimit`, built once on first use and never freed.
/// A raw pointer rather than an array, so threads reading it never touch a shared reference count.
nonisolated(unsafe) let charClassTable: UnsafePointer<UInt8> = {
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: Int(CharClass.tableLimit))
    for v in 0..<CharClass.tableLimit { table[Int(v)] = CharClass.compute(v).rawValue }
    return UnsafePointer(table)
}()

/// Decodes the UTF-8 scalar starting at `i` of `p` (valid UTF-8 assumed): its value and byte length.
@inline(__always) func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
    let b0 = UInt32(p[i])
    if b0 < 0x80 { return (b0, 1) }
    if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
    if b0 < 0xF0 {
        return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3)
    }
    return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6
            | UInt32(p[i + 3] & 0x3F), 4)
}

/// The byte length of the UTF-8 sequence whose first byte is `b`.
@inline(__always) func scalarLength(_ b: UInt8) -> Int {
    b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
}
