/// GPT-2's reversible byte ↔ character spelling (HF `bytes_char`): printable Latin-1 bytes stand for themselves,
/// the other 68 bytes map to U+0100… in byte order.
enum ByteLevelAlphabet {
    /// The character spelling each byte.
    static let charOf: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            table[b] = Unicode.Scalar(printable ? UInt32(b) : 256 + n)!
            if !printable { n += 1 }
        }
        return table
    }()

    /// The byte a character spells, indexed by scalar value (< 0x144), or -1.
    static let byteOf: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (b, c) in charOf.enumerated() { table[Int(c.value)] = Int16(b) }
        return table
    }()

    /// The raw bytes a byte-level token spells, or nil when it has a character outside the alphabet.
    static func bytes(of token: String) -> [UInt8]? {
        var out = [UInt8](); out.reserveCapacity(token.utf8.count)
        for s in token.unicodeScalars {
            guard s.value < 0x144, byteOf[Int(s.value)] >= 0 else { return nil }
            out.append(UInt8(byteOf[Int(s.value)]))
        }
        return out
    }

    /// The byte-level spelling of raw bytes.
    static func spell(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(charOf[Int(b)]) }
        return String(s)
    }
}
