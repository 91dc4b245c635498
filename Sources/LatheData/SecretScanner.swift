import Foundation

/// Credentials: well-known key prefixes, PEM private keys, passwords in URLs, and long high-entropy tokens.
enum SecretScanner {
    /// Characters allowed after a prefix.
    private enum Tail {
        case upperDigit, alnum, alnumUnderscore, alnumDash, alnumUnderscoreDash
        func allows(_ b: UInt8) -> Bool {
            switch self {
            case .upperDigit: return Bytes.isUpper(b) || Bytes.isDigit(b)
            case .alnum: return Bytes.isAlnum(b)
            case .alnumUnderscore: return Bytes.isAlnum(b) || b == 95
            case .alnumDash: return Bytes.isAlnum(b) || b == 45
            case .alnumUnderscoreDash: return Bytes.isAlnum(b) || b == 95 || b == 45
            }
        }
    }

    /// (prefix, allowed tail, minimum tail length, maximum tail length).
    private static let prefixes: [(String, Tail, Int, Int)] = [
        ("AKIA", .upperDigit, 16, 16), ("ASIA", .upperDigit, 16, 16),          // AWS access key ids
        ("github_pat_", .alnumUnderscore, 22, 255),                             // GitHub fine-grained token
        ("ghp_", .alnum, 36, 255), ("gho_", .alnum, 36, 255), ("ghu_", .alnum, 36, 255),  // GitHub classic
        ("ghs_", .alnum, 36, 255), ("ghr_", .alnum, 36, 255),
        ("sk-", .alnumUnderscoreDash, 20, 255),                                 // OpenAI / Stripe style
        ("xoxb-", .alnumDash, 10, 255), ("xoxp-", .alnumDash, 10, 255),        // Slack
        ("xoxa-", .alnumDash, 10, 255), ("xoxs-", .alnumDash, 10, 255),
        ("AIza", .alnumUnderscoreDash, 35, 35),                                 // Google API key
    ]

    private static let prefixBytes: [([UInt8], Tail, Int, Int)] = prefixes.map { (Array($0.0.utf8), $0.1, $0.2, $0.3) }

    /// All secret spans.
    static func scan(_ s: UnsafeBufferPointer<UInt8>, minLength: Int, minEntropy: Double) -> [PIISpan] {
        var spans = privateKeys(s) + urlCredentials(s)
        func free(_ a: Int, _ b: Int) -> Bool { !spans.contains { $0.start < b && a < $0.end } }
        var i = 0
        while i < s.count {
            guard !Bytes.wordAt(s, i - 1) else { i += 1; continue }
            var matched = false
            for (p, allowed, minTail, maxTail) in prefixBytes where s[i] == p[0] {
                guard i + p.count <= s.count, (0..<p.count).allSatisfy({ s[i + $0] == p[$0] }) else { continue }
                var j = i + p.count
                while j < s.count, allowed.allows(s[j]) { j += 1 }
                let tail = j - i - p.count
                if tail >= minTail, tail <= maxTail, !Bytes.wordAt(s, j), free(i, j) {
                    spans.append(PIISpan(start: i, end: j, type: .secret)); i = j; matched = true
                }
                break
            }
            if matched { continue }
            // High-entropy token: a run of base64/url-safe characters.
            if isTokenByte(s[i]) {
                var j = i
                while j < s.count, isTokenByte(s[j]) { j += 1 }
                while j < s.count, s[j] == 61 { j += 1 }  // base64 padding ends a token; `key=value` splits
                var end = j
                while end > i, s[end - 1] == 46 || s[end - 1] == 45 { end -= 1 }
                if end - i >= minLength, !Bytes.wordAt(s, j), free(i, end), isHighEntropy(s, i, end, minEntropy) {
                    spans.append(PIISpan(start: i, end: end, type: .secret))
                }
                i = j
                continue
            }
            i += 1
        }
        return spans
    }

    @inline(__always) private static func isTokenByte(_ b: UInt8) -> Bool {
        Bytes.isAlnum(b) || b == 43 || b == 47 || b == 95 || b == 45 || b == 46
    }

    /// Shannon entropy in bits per character of `s[a..<b]` is at least `minimum`, and the token mixes letters
    /// and digits (long words, paths of words, and `----` rules fail this).
    static func isHighEntropy(_ s: UnsafeBufferPointer<UInt8>, _ a: Int, _ b: Int, _ minimum: Double) -> Bool {
        var counts = [Int](repeating: 0, count: 128)
        var digits = 0, letters = 0
        for k in a..<b {
            counts[Int(s[k] & 0x7F)] += 1
            if Bytes.isDigit(s[k]) { digits += 1 } else if Bytes.isAlpha(s[k]) { letters += 1 }
        }
        guard digits > 0, letters > 0 else { return false }
        let n = Double(b - a)
        var entropy = 0.0
        for c in counts where c > 0 { let p = Double(c) / n; entropy -= p * log2(p) }
        return entropy >= minimum
    }

    /// `-----BEGIN … PRIVATE KEY-----` through the matching END line (or the end of the text when cut off).
    private static func privateKeys(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        let begin = Array("-----BEGIN ".utf8), marker = Array("PRIVATE KEY-----".utf8), endTag = Array("-----END ".utf8)
        var i = 0
        while let a = find(s, begin, from: i) {
            var lineEnd = a
            while lineEnd < s.count, s[lineEnd] != 10 { lineEnd += 1 }
            guard let m = find(s, marker, from: a), m + marker.count <= lineEnd else { i = a + begin.count; continue }
            var end = s.count
            if let e = find(s, endTag, from: m), let close = find(s, marker, from: e) { end = close + marker.count }
            spans.append(PIISpan(start: a, end: end, type: .secret))
            i = end
        }
        return spans
    }

    /// `scheme://user:password@host`: the `user:password` part.
    private static func urlCredentials(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        let sep = Array("://".utf8)
        var i = 0
        while let k = find(s, sep, from: i) {
            i = k + 3
            guard k > 0, Bytes.isAlpha(s[k - 1]) else { continue }
            var j = i, colon = -1
            while j < s.count, s[j] > 32, s[j] != 47, s[j] != 64, s[j] != 63, s[j] != 35 {
                if s[j] == 58, colon < 0 { colon = j }
                j += 1
            }
            if j < s.count, s[j] == 64, colon > i, colon < j - 1 {
                spans.append(PIISpan(start: i, end: j, type: .secret)); i = j
            }
        }
        return spans
    }

    private static func find(_ s: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], from: Int) -> Int? {
        var i = from
        while let p = findByte(s, needle[0], from: i) {
            if p + needle.count > s.count { return nil }
            if (1..<needle.count).allSatisfy({ s[p + $0] == needle[$0] }) { return p }
            i = p + 1
        }
        return nil
    }
}
