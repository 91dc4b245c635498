import Foundation

/// The repetition rules of Gopher (Rae et al. 2021, table A1) with the semantics of datatrove's
/// `GopherRepetitionFilter`: duplicate paragraphs (split on 2+ newlines) and lines (split on newlines) by
/// count and by characters; the most frequent 2/3/4-gram's characters × count; characters covered by
/// repeated 5…10-grams (scanning left to right, jumping past each repeat). Lengths are in Unicode code points.
/// For instruction records the rules run on each field of at least `DocumentRules.minWords` words.
public struct GopherRepetitionFilter: DocumentRuleFilter {
    /// Thresholds; nil disables a rule.
    public struct Config: Codable, Sendable, Equatable {
        /// Duplicate line fraction (0.3).
        public var dupLineFrac: Double? = 0.3
        /// Duplicate paragraph fraction (0.3).
        public var dupParaFrac: Double? = 0.3
        /// Duplicate line character fraction (0.2).
        public var dupLineCharFrac: Double? = 0.2
        /// Duplicate paragraph character fraction (0.2).
        public var dupParaCharFrac: Double? = 0.2
        /// (n, max fraction) for the top n-gram rule: (2, 0.2), (3, 0.18), (4, 0.16).
        public var topNGrams: [NGramLimit] = [.init(2, 0.2), .init(3, 0.18), .init(4, 0.16)]
        /// (n, max fraction) for the duplicate n-gram rule: (5, 0.15) … (10, 0.10).
        public var dupNGrams: [NGramLimit] = [.init(5, 0.15), .init(6, 0.14), .init(7, 0.13), .init(8, 0.12), .init(9, 0.11), .init(10, 0.10)]
        /// Texts with fewer words than this are kept unchecked (web 0; instruction 50, `DocumentRules.minWords`).
        public var minWords: Int
        /// Check each text field on its own rather than the joined record (web false; instruction true: an
        /// answer that restates its question is two texts, not one repetitive document).
        public var eachField: Bool

        /// Defaults for `kind`.
        public init(kind: DataKind = .web) {
            minWords = kind == .web ? 0 : DocumentRules.minWords
            eachField = kind == .instruction
        }
        enum CodingKeys: String, CodingKey {
            case dupLineFrac = "dup_line_frac", dupParaFrac = "dup_para_frac", dupLineCharFrac = "dup_line_char_frac"
            case dupParaCharFrac = "dup_para_char_frac", topNGrams = "top_n_grams", dupNGrams = "dup_n_grams"
            case minWords = "min_words", eachField = "each_field"
        }
    }

    /// An n-gram size with its maximum character fraction.
    public struct NGramLimit: Codable, Sendable, Equatable {
        /// n.
        public var n: Int
        /// Maximum fraction of the text's characters.
        public var fraction: Double
        /// Creates a limit.
        public init(_ n: Int, _ fraction: Double) { self.n = n; self.fraction = fraction }
    }

    public let name = "gopher_repetition"
    /// Thresholds.
    public var config: Config
    /// Creates the filter.
    public init(_ config: Config = Config()) { self.config = config }

    /// Which texts of a record the rules see.
    public var scope: (eachField: Bool, minWords: Int) { (config.eachField, config.minWords) }

    /// The rules on one text.
    public func check(_ unit: FilterText) -> FilterVerdict {
        let text = unit.text
        let length = Double(Words.scalarCount(text))
        if length == 0 { return drop("empty", "empty text") }

        let paragraphs = splitParagraphs(text)
        let (paraDup, paraChars) = duplicates(paragraphs)
        if let max = config.dupParaFrac, Double(paraDup) / Double(paragraphs.count) > max {
            return drop("dup_para_frac", "\(paraDup) of \(paragraphs.count) paragraphs are repeats, maximum fraction \(max)")
        }
        if let max = config.dupParaCharFrac, Double(paraChars) / length > max {
            return drop("dup_para_char_frac", "repeated paragraphs are \(round2(Double(paraChars) / length)) of the text, maximum \(max)")
        }
        let lines = Words.split(text, omittingEmpty: true)
        let lineCount = max(1, lines.count)
        let (lineDup, lineChars) = duplicates(lines)
        if let max = config.dupLineFrac, Double(lineDup) / Double(lineCount) > max {
            return drop("dup_line_frac", "\(lineDup) of \(lineCount) lines are repeats, maximum fraction \(max)")
        }
        if let max = config.dupLineCharFrac, Double(lineChars) / length > max {
            return drop("dup_line_char_frac", "repeated lines are \(round2(Double(lineChars) / length)) of the text, maximum \(max)")
        }
        // n-grams are identified by a 64-bit hash of their words' hashes (no string per n-gram); their
        // lengths are the sums of the word lengths (+ n−1 spaces for the top n-gram rule, as datatrove joins with " ").
        var hashes: [UInt64] = [], lengths: [Int] = []
        hashes.reserveCapacity(unit.words.count); lengths.reserveCapacity(unit.words.count)
        for w in unit.words {
            let h = w.utf8.withContiguousStorageIfAvailable { Hash64.hash(UnsafeRawBufferPointer($0)) }
            hashes.append(h ?? Hash64.hash(String(w)))
            lengths.append(Words.scalarCount(w))
        }
        for limit in config.topNGrams where hashes.count >= limit.n {
            let frac = Double(topNGramChars(hashes, lengths, n: limit.n)) / length
            if frac > limit.fraction {
                return drop("top_\(limit.n)_gram", "the most frequent \(limit.n)-gram covers \(round2(frac)) of the text, maximum \(limit.fraction)")
            }
        }
        for limit in config.dupNGrams {
            let frac = Double(repeatedNGramChars(hashes, lengths, n: limit.n)) / length
            if frac > limit.fraction {
                return drop("duplicated_\(limit.n)_n_grams", "repeated \(limit.n)-grams cover \(round2(frac)) of the text, maximum \(limit.fraction)")
            }
        }
        return .keep
    }

    /// `re.split(r"\n{2,}", text.strip())`, scanning UTF-8 bytes.
    private func splitParagraphs(_ text: String) -> [Substring] {
        let utf8 = text.utf8
        var lo = utf8.startIndex, hi = utf8.endIndex
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        while lo != hi, isSpace(utf8[lo]) { lo = utf8.index(after: lo) }
        while hi != lo, isSpace(utf8[utf8.index(before: hi)]) { hi = utf8.index(before: hi) }
        var result: [Substring] = []
        var start = lo, i = lo
        while i != hi {
            if utf8[i] == 0x0A {
                var j = utf8.index(after: i), run = 1
                while j != hi, utf8[j] == 0x0A { j = utf8.index(after: j); run += 1 }
                if run >= 2 { result.append(text[start..<i]); start = j }
                i = j
            } else {
                i = utf8.index(after: i)
            }
        }
        result.append(text[start..<hi])
        return result
    }

    /// (repeated elements, characters in repeated elements), counting each element after its first occurrence.
    private func duplicates(_ items: [Substring]) -> (Int, Int) {
        var seen: Set<Substring> = []
        var count = 0, chars = 0
        for item in items where !seen.insert(item).inserted {
            count += 1; chars += Words.scalarCount(item)
        }
        return (count, chars)
    }

    @inline(__always)
    private func gramKey(_ hashes: [UInt64], _ i: Int, _ n: Int) -> UInt64 {
        var h = UInt64(n)
        for k in i..<(i + n) { h = Hash64.mix(h ^ hashes[k]) }
        return h
    }

    /// datatrove's `find_top_duplicate`: characters of the most frequent n-gram (joined by spaces) × its count;
    /// ties go to the n-gram seen first, as `Counter.most_common`.
    private func topNGramChars(_ hashes: [UInt64], _ lengths: [Int], n: Int) -> Int {
        var counts = NGramCounts(capacity: hashes.count - n + 1)
        for i in 0...(hashes.count - n) { _ = counts.add(gramKey(hashes, i, n), at: i) }
        let best = counts.mostFrequent()
        let chars = lengths[best.first..<(best.first + n)].reduce(n - 1, +)
        return chars * best.count
    }

    /// datatrove's `find_all_duplicate`: n-grams joined without spaces; a repeat adds its length and jumps n words.
    private func repeatedNGramChars(_ hashes: [UInt64], _ lengths: [Int], n: Int) -> Int {
        guard hashes.count >= n else { return 0 }
        var seen = NGramCounts(capacity: hashes.count - n + 1)
        var repeated = 0, i = 0
        while i < hashes.count - n + 1 {
            if seen.add(gramKey(hashes, i, n), at: i) == 1 {
                i += 1
            } else {
                repeated += lengths[i..<(i + n)].reduce(0, +); i += n
            }
        }
        return repeated
    }

    private func drop(_ code: String, _ detail: String) -> FilterVerdict { .drop(RejectReason(code: code, detail: detail)) }
}
