/// Card numbers, IBANs, US social security numbers and IP addresses: each candidate is validated before it is
/// redacted, so order numbers and version strings that fail the checks are left alone.
enum NumberScanner {
    /// 13–19 digits, optionally split by single spaces or dashes, passing the Luhn check.
    static func cards(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        var i = 0
        while i < s.count {
            guard Bytes.isDigit(s[i]), !Bytes.wordAt(s, i - 1) else { i += 1; continue }
            var digits: [UInt8] = []
            var j = i, end = i
            while j < s.count {
                if Bytes.isDigit(s[j]) { digits.append(s[j] - 48); j += 1; end = j; continue }
                if (s[j] == 32 || s[j] == 45), Bytes.digitAt(s, j + 1) { j += 1; continue }
                break
            }
            if digits.count >= 13, digits.count <= 19, !Bytes.wordAt(s, end), luhn(digits) {
                spans.append(PIISpan(start: i, end: end, type: .creditCard))
            }
            i = max(end, i + 1)
        }
        return spans
    }

    /// The Luhn checksum (ISO/IEC 7812-1) is valid.
    static func luhn(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (k, d) in digits.reversed().enumerated() {
            var v = Int(d)
            if k % 2 == 1 { v *= 2; if v > 9 { v -= 9 } }
            sum += v
        }
        return sum % 10 == 0
    }

    /// Country code (2 capitals), 2 check digits, then capitals/digits optionally in space-separated groups,
    /// 15–34 characters in all, passing the ISO 13616 mod-97 check. The longest valid prefix at a group
    /// boundary is taken, so a following capitalised word is not swallowed.
    static func ibans(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        var i = 0
        while i + 15 <= s.count {
            guard Bytes.isUpper(s[i]), Bytes.isUpper(s[i + 1]), Bytes.isDigit(s[i + 2]), Bytes.isDigit(s[i + 3]),
                  !Bytes.wordAt(s, i - 1) else { i += 1; continue }
            var chars: [UInt8] = []
            var boundaries: [(chars: Int, end: Int)] = []
            var j = i
            while j < s.count, chars.count <= 34 {
                let b = s[j]
                if Bytes.isUpper(b) || Bytes.isDigit(b) { chars.append(b); j += 1; continue }
                if b == 32, j + 1 < s.count, Bytes.isUpper(s[j + 1]) || Bytes.isDigit(s[j + 1]) {
                    boundaries.append((chars.count, j)); j += 1; continue
                }
                break
            }
            if !Bytes.wordAt(s, j) { boundaries.append((chars.count, j)) }
            var matched = false
            for (count, end) in boundaries.reversed() where count >= 15 && count <= 34 {
                if mod97(Array(chars[0..<count])) {
                    spans.append(PIISpan(start: i, end: end, type: .iban)); i = end; matched = true; break
                }
            }
            if !matched { i += 1 }
        }
        return spans
    }

    /// IBAN check: first four characters moved to the end, letters as 10…35, the number mod 97 is 1.
    static func mod97(_ chars: [UInt8]) -> Bool {
        var remainder = 0
        for b in chars[4...] + chars[0..<4] {
            if Bytes.isDigit(b) { remainder = (remainder * 10 + Int(b - 48)) % 97 }
            else { remainder = (remainder * 100 + Int(b - 55)) % 97 }
        }
        return remainder == 1
    }

    /// `AAA-GG-SSSS` or `AAA GG SSSS` with the SSA's rules: area not 000, 666 or 9xx; group not 00; serial not 0000.
    static func ssns(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        var i = 0
        while i + 11 <= s.count {
            guard Bytes.isDigit(s[i]), !Bytes.wordAt(s, i - 1), !(i > 0 && s[i - 1] == 45) else { i += 1; continue }
            let sep = s[i + 3]
            let shape = (sep == 45 || sep == 32) && s[i + 6] == sep
                && [0, 1, 2, 4, 5, 7, 8, 9, 10].allSatisfy { Bytes.isDigit(s[i + $0]) }
            guard shape, !Bytes.wordAt(s, i + 11), !(i + 12 < s.count && s[i + 11] == 45 && Bytes.isDigit(s[i + 12])) else {
                i += 1; continue
            }
            func number(_ from: Int, _ n: Int) -> Int { (from..<from + n).reduce(0) { $0 * 10 + Int(s[$1] - 48) } }
            let area = number(i, 3), group = number(i + 4, 2), serial = number(i + 7, 4)
            if area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 {
                spans.append(PIISpan(start: i, end: i + 11, type: .ssn)); i += 11
            } else {
                i += 1
            }
        }
        return spans
    }

    /// IPv4 dotted quads (octets 0–255, no leading zeros) and IPv6 addresses (RFC 4291 text forms, `::`
    /// compression, optional trailing dotted quad).
    static func ips(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        var i = 0
        while i < s.count {
            let b = s[i]
            let boundary = !Bytes.wordAt(s, i - 1) && !(i > 0 && (s[i - 1] == 46 || s[i - 1] == 58))
            if boundary, Bytes.isHex(b) || b == 58 {
                // Maximal run of hex digits, ':' and '.'.
                var j = i, colons = 0, dots = 0
                while j < s.count, Bytes.isHex(s[j]) || s[j] == 58 || s[j] == 46 {
                    if s[j] == 58 { colons += 1 } else if s[j] == 46 { dots += 1 }
                    j += 1
                }
                if colons < 2 && dots < 3 {   // cannot be an address: skip without allocating
                    i = Bytes.isWord(b) ? skipWord(s, i) : i + 1
                    continue
                }
                var end = j
                while end > i, s[end - 1] == 46 { end -= 1 }
                if end > i, s[end - 1] == 58, !(end - 2 >= i && s[end - 2] == 58) { end -= 1 }
                if !Bytes.wordAt(s, j) {
                    let run = Array(s[i..<end])
                    if run.contains(58) ? isIPv6(run) : isIPv4(run) {
                        spans.append(PIISpan(start: i, end: end, type: .ipAddress)); i = end; continue
                    }
                }
                i = Bytes.isWord(b) ? skipWord(s, i) : i + 1
                continue
            }
            i = Bytes.isWord(b) ? skipWord(s, i) : i + 1
        }
        return spans
    }

    private static func skipWord(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i
        while j < s.count, Bytes.isWord(s[j]) { j += 1 }
        return j
    }

    static func isIPv4(_ run: [UInt8]) -> Bool {
        let parts = run.split(separator: 46, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in
            guard (1...3).contains(p.count), p.allSatisfy(Bytes.isDigit), p.count == 1 || p.first != 48 else { return false }
            return p.reduce(0) { $0 * 10 + Int($1 - 48) } <= 255
        }
    }

    static func isIPv6(_ run: [UInt8]) -> Bool {
        guard run.count >= 3 else { return false }
        var halves: [ArraySlice<UInt8>] = []
        var k = 0, start = 0, compressed = false
        while k < run.count {
            if k + 1 < run.count, run[k] == 58, run[k + 1] == 58 {
                if compressed { return false }
                compressed = true
                halves.append(run[start..<k]); start = k + 2; k += 2
            } else { k += 1 }
        }
        halves.append(run[start..<run.count])
        var groups = 0
        for (h, half) in halves.enumerated() where !half.isEmpty {
            let parts = half.split(separator: 58, omittingEmptySubsequences: false)
            for (p, part) in parts.enumerated() {
                if part.contains(46) {
                    guard h == halves.count - 1, p == parts.count - 1, isIPv4(Array(part)) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(part.count), part.allSatisfy(Bytes.isHex) else { return false }
                    groups += 1
                }
            }
        }
        return compressed ? (groups >= 1 && groups <= 7) : groups == 8
    }
}
