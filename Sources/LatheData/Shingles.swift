/// Word shingles as datatrove's MinHash sees text: `simplify_text` (lower case, numbers → "0", punctuation →
/// space, whitespace collapsed, diacritics removed), split into words, then every run of `n` consecutive words.
/// Each word is hashed once with `Hash64`; a shingle's 64-bit hash chains its words' hashes in order. (datatrove
/// hashes the joined n-gram string with xxhash; the values differ, the sets they induce match.)
public struct Shingler: Sendable {
    /// Words per shingle (5).
    public var n: Int
    /// Creates a shingler.
    public init(n: Int = 5) { self.n = max(1, n) }

    /// Hashes of the simplified words of `text`, in order.
    public static func wordHashes(_ text: String, into out: inout [UInt64]) {
        out.removeAll(keepingCapacity: true)
        var text = text
        text.withUTF8 { utf8 in hashWords(utf8, into: &out) }
    }

    /// `wordHashes` over UTF-8 bytes. The state lives in locals (no captured variables), so the loop runs without
    /// dynamic exclusivity checks.
    private static func hashWords(_ utf8: UnsafeBufferPointer<UInt8>, into out: inout [UInt64]) {
        var word: [UInt8] = []
        word.reserveCapacity(64)
        var inNumber = false
        var i = 0
        let count = utf8.count
        while i < count {
            let b = utf8[i]
            var ends = false   // this byte ends the current word
            if b < 0x80 {
                i += 1
                switch b {
                case UInt8(ascii: "a")...UInt8(ascii: "z"): word.append(b); inNumber = false
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(b | 0x20); inNumber = false
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    if !inNumber { word.append(UInt8(ascii: "0")); inNumber = true }
                case UInt8(ascii: "."), UInt8(ascii: ","):
                    // A decimal separator between digits stays inside the number ("3.14" → "0").
                    if !(inNumber && i < count && utf8[i] >= 48 && utf8[i] <= 57) { ends = true }
                default: ends = true  // whitespace, punctuation, control
                }
            } else {
                // Non-ASCII: decode one scalar.
                var scalarValue: UInt32 = 0
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                scalarValue = UInt32(b) & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07)
                for k in 1..<length where i + k < count { scalarValue = scalarValue << 6 | UInt32(utf8[i + k] & 0x3F) }
                i += length
                if let scalar = Unicode.Scalar(scalarValue) {
                    let properties = scalar.properties
                    if properties.isWhitespace || Words.isPunctuation(scalar) {
                        ends = true
                    } else if properties.numericType == .decimal {
                        if !inNumber { word.append(UInt8(ascii: "0")); inNumber = true }
                    } else if properties.generalCategory != .nonspacingMark {
                        inNumber = false
                        appendFolded(scalar, to: &word)
                    }
                } else {
                    ends = true
                }
            }
            if ends {
                if !word.isEmpty {
                    out.append(word.withUnsafeBytes { Hash64.hash($0, seed: 0x5EED) })
                    word.removeAll(keepingCapacity: true)
                }
                inNumber = false
            }
        }
        if !word.isEmpty { out.append(word.withUnsafeBytes { Hash64.hash($0, seed: 0x5EED) }) }
    }

    /// Lower-cased, with combining marks of its canonical decomposition dropped (é → e).
    private static func appendFolded(_ scalar: Unicode.Scalar, to word: inout [UInt8]) {
        for lower in scalar.properties.lowercaseMapping.unicodeScalars {
            let decomposed = String(lower).decomposedStringWithCanonicalMappingLite
            for s in decomposed where s.properties.generalCategory != .nonspacingMark {
                word.append(contentsOf: String(s).utf8)
            }
        }
    }

    /// Shingle hashes of `text` (one per window of `n` words; none when the text has fewer than `n` words).
    public func shingles(_ text: String, words: inout [UInt64], into out: inout [UInt64]) {
        Self.wordHashes(text, into: &words)
        out.removeAll(keepingCapacity: true)
        guard words.count >= n else { return }
        for i in 0...(words.count - n) {
            var h: UInt64 = 0x9AE1_6A3B_2F90_404F
            for k in 0..<n { h = Hash64.mix(h &* 0x100_0000_01B3 ^ words[i + k]) }
            out.append(h)
        }
    }

    /// The distinct shingles of `text` (for exact Jaccard checks).
    public func shingleSet(_ text: String) -> Set<UInt64> {
        var words: [UInt64] = [], out: [UInt64] = []
        shingles(text, words: &words, into: &out)
        return Set(out)
    }

    /// Exact Jaccard similarity of two shingle sets (0 when both are empty).
    public static func jaccard(_ a: Set<UInt64>, _ b: Set<UInt64>) -> Double {
        if a.isEmpty && b.isEmpty { return 0 }
        let (small, large) = a.count <= b.count ? (a, b) : (b, a)
        let inter = small.reduce(0) { $0 + (large.contains($1) ? 1 : 0) }
        return Double(inter) / Double(a.count + b.count - inter)
    }
}

import Foundation

extension String {
    /// NFD as unicode scalars.
    fileprivate var decomposedStringWithCanonicalMappingLite: String.UnicodeScalarView {
        decomposedStringWithCanonicalMapping.unicodeScalars
    }
}
