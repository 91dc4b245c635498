import LatheFormats

/// A token matched whole in the text before the model runs (HF `AddedToken`, `tokenizer.json` `added_tokens`).
public struct AddedToken: Sendable, Equatable {
    /// The token id.
    public let id: Int32
    /// The text the token stands for.
    public let content: String
    /// Skipped by `decode(skipSpecialTokens: true)`; matched by `encode` only with `allowSpecial: true`.
    public let special: Bool
    /// Also swallow the whitespace before (`lstrip`) or after (`rstrip`) a match.
    public let lstrip: Bool, rstrip: Bool
    /// Matched in the normalized text (with its content normalized) rather than the raw text.
    public let normalized: Bool
    /// Only matched when not inside a word.
    public let singleWord: Bool
    /// Matched by `encode` even without `allowSpecial`, as HF matches every special token in text: the tokens a
    /// recipe adds (`train.new_tokens`), which its data spells. Not a `tokenizer.json` field.
    public let alwaysMatched: Bool

    /// A token with HF's defaults for the flags not given.
    public init(id: Int32, content: String, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
                normalized: Bool = false, singleWord: Bool = false, alwaysMatched: Bool = false) {
        self.id = id; self.content = content; self.special = special
        self.lstrip = lstrip; self.rstrip = rstrip; self.normalized = normalized; self.singleWord = singleWord
        self.alwaysMatched = alwaysMatched
    }

    static func from(_ node: JSONNode) throws -> AddedToken {
        AddedToken(id: try node.required("id").tokenId(), content: try node.required("content").string(),
                   special: try node.optionalBool("special") ?? false, lstrip: try node.optionalBool("lstrip") ?? false,
                   rstrip: try node.optionalBool("rstrip") ?? false, normalized: try node.optionalBool("normalized") ?? false,
                   singleWord: try node.optionalBool("single_word") ?? false)
    }
}

/// Finds added tokens leftmost-longest in text, as HF `AddedVocabulary::find_matches`.
struct AddedTokenMatcher: Sendable {
    private let tokens: [AddedToken]
    private let patterns: [[UInt8]]
    private let byFirstByte: [[Int]]   // candidate indices per first byte, longest first

    var isEmpty: Bool { tokens.isEmpty }

    /// `patterns[i]` is what `tokens[i]` looks like in the text it is matched in.
    init(_ tokens: [AddedToken], patterns: [String]) {
        var kept = [AddedToken](), bytes = [[UInt8]]()
        for (t, p) in zip(tokens, patterns) where !p.isEmpty { kept.append(t); bytes.append(Array(p.utf8)) }
        var table = [[Int]](repeating: [], count: 256)
        for (i, p) in bytes.enumerated() { table[Int(p[0])].append(i) }
        for b in 0..<256 { table[b].sort { bytes[$0].count > bytes[$1].count } }
        self.tokens = kept; self.patterns = bytes; self.byFirstByte = table
    }

    /// Cuts `p[range]` into text spans (id nil) and added-token spans. Special tokens count only when `allowSpecial`.
    func split(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, allowSpecial: Bool) -> [(Range<Int>, Int32?)] {
        var out = [(Range<Int>, Int32?)]()
        var i = range.lowerBound, startOffset = range.lowerBound
        let end = range.upperBound
        while i < end {
            var best = -1
            for c in byFirstByte[Int(p[i])] {
                let pat = patterns[c]
                guard pat.count <= end - i else { continue }
                var same = true
                for k in 1..<pat.count where p[i + k] != pat[k] { same = false; break }
                if same { best = c; break }
            }
            guard best >= 0 else { i += 1; continue }
            let token = tokens[best]
            var start = i, stop = i + patterns[best].count
            i = stop
            if token.special && !allowSpecial && !token.alwaysMatched { continue }
            if token.singleWord {
                // A word character is a regex `\w` (UTS #18: with marks and joiners), as HF's check.
                let startSpace = start == range.lowerBound || !lastScalarIsWord(p, range.lowerBound, start)
                let stopSpace = stop == end || !CharClass.of(decodeScalar(p, stop).0).contains(.word)
                if !startSpace || !stopSpace { continue }
            }
            if token.lstrip {
                var s = start
                while s > range.lowerBound {
                    var b = s - 1
                    while b > range.lowerBound && p[b] & 0xC0 == 0x80 { b -= 1 }
                    guard CharClass.of(decodeScalar(p, b).0).contains(.space) else { break }
                    s = b
                }
                start = max(s, startOffset)
            }
            if token.rstrip {
                while stop < end {
                    let (v, n) = decodeScalar(p, stop)
                    guard CharClass.of(v).contains(.space) else { break }
                    stop += n
                }
                i = max(i, stop)
            }
            if startOffset < start { out.append((startOffset..<start, nil)) }
            out.append((start..<stop, token.id))
            startOffset = stop
        }
        if startOffset < end { out.append((startOffset..<end, nil)) }
        return out
    }

    private func lastScalarIsWord(_ p: UnsafeBufferPointer<UInt8>, _ lower: Int, _ at: Int) -> Bool {
        var b = at - 1
        while b > lower && p[b] & 0xC0 == 0x80 { b -= 1 }
        return CharClass.of(decodeScalar(p, b).0).contains(.word)
    }
}
