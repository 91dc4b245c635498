/// E-mail addresses and phone numbers.
enum ContactScanner {
    @inline(__always) static func isLocal(_ b: UInt8) -> Bool {
        Bytes.isAlnum(b) || b == 46 || b == 95 || b == 37 || b == 43 || b == 45  // . _ % + -
    }
    @inline(__always) static func isDomain(_ b: UInt8) -> Bool { Bytes.isAlnum(b) || b == 46 || b == 45 }

    /// `local@domain.tld`: local part of letters, digits and `._%+-`; a domain of labels with a final label of
    /// two or more letters.
    static func emails(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        var i = 0
        while let at = findByte(s, 64, from: i) {
            i = at + 1
            var start = at
            while start > 0, isLocal(s[start - 1]) { start -= 1 }
            while start < at, s[start] == 46 { start += 1 }   // not starting with '.'
            guard start < at else { continue }
            var end = at + 1
            while end < s.count, isDomain(s[end]) { end += 1 }
            while end > at + 1, s[end - 1] == 46 || s[end - 1] == 45 { end -= 1 }  // sentence-ending dot
            // The final label must be letters only, 2+ long, after at least one dot.
            var dot = end - 1
            while dot > at, s[dot] != 46 { dot -= 1 }
            guard dot > at + 1, end - dot - 1 >= 2, (dot + 1..<end).allSatisfy({ Bytes.isAlpha(s[$0]) }) else { continue }
            if let last = spans.last, last.end > start { continue }
            spans.append(PIISpan(start: start, end: end, type: .email))
            i = end
        }
        return spans
    }

    /// International numbers (`+CC` then 7–14 more digits in groups split by single spaces, dots, dashes or
    /// parentheses; 8–15 digits in all, as E.164) and North American ones (`(NXX) NXX-XXXX`, `NXX-NXX-XXXX`,
    /// `NXX.NXX.XXXX`, `NXX NXX XXXX`, optionally after `1 ` or `1-`; N is 2–9). Bare digit runs are not phones.
    static func phones(_ s: UnsafeBufferPointer<UInt8>) -> [PIISpan] {
        var spans: [PIISpan] = []
        var i = 0
        while i < s.count {
            let b = s[i]
            if b == 43, !Bytes.wordAt(s, i - 1), Bytes.digitAt(s, i + 1), let end = international(s, i) {
                spans.append(PIISpan(start: i, end: end, type: .phone)); i = end; continue
            }
            if (Bytes.isDigit(b) || b == 40), !Bytes.wordAt(s, i - 1), !(i > 0 && (s[i - 1] == 45 || s[i - 1] == 46 || s[i - 1] == 43)),
               let end = northAmerican(s, i) {
                spans.append(PIISpan(start: i, end: end, type: .phone)); i = end; continue
            }
            i += 1
        }
        return spans
    }

    private static func international(_ s: UnsafeBufferPointer<UInt8>, _ plus: Int) -> Int? {
        var i = plus + 1, digits = 0, end = plus + 1
        var lastWasSeparator = false
        while i < s.count {
            let b = s[i]
            if Bytes.isDigit(b) { digits += 1; i += 1; end = i; lastWasSeparator = false; continue }
            if (b == 32 || b == 45 || b == 46 || b == 40 || b == 41) && !lastWasSeparator && digits > 0 {
                if b == 41 { i += 1; if i < s.count, s[i] == 32 { i += 1 }; continue }
                lastWasSeparator = b != 40
                i += 1
                continue
            }
            break
        }
        guard digits >= 8, digits <= 15, !Bytes.wordAt(s, end) else { return nil }
        return end
    }

    private static func northAmerican(_ s: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var i = start
        func digits(_ n: Int) -> Bool {
            guard i + n <= s.count, (i..<i + n).allSatisfy({ Bytes.isDigit(s[$0]) }) else { return false }
            i += n; return true
        }
        func sep(_ allowed: [UInt8]) -> UInt8? {
            guard i < s.count, allowed.contains(s[i]) else { return nil }
            i += 1; return s[i - 1]
        }
        // Optional country code 1.
        if s[i] == 49, i + 1 < s.count, s[i + 1] == 32 || s[i + 1] == 45 { i += 2 }
        let separator: UInt8
        if i < s.count, s[i] == 40 {
            i += 1
            guard digits(3), s[i - 3] >= 50, i < s.count, s[i] == 41 else { return nil }
            i += 1
            if i < s.count, s[i] == 32 { i += 1 }
            guard digits(3), s[i - 3] >= 50 else { return nil }
            guard let sp = sep([45, 46, 32]) else { return nil }
            separator = sp
        } else {
            guard digits(3), s[i - 3] >= 50, let sp = sep([45, 46, 32]) else { return nil }
            guard digits(3), s[i - 3] >= 50, sep([sp]) != nil else { return nil }
            separator = sp
        }
        _ = separator
        guard digits(4), !Bytes.wordAt(s, i), !(i + 1 < s.count && (s[i] == 45 || s[i] == 46) && Bytes.isDigit(s[i + 1])) else { return nil }
        return i
    }
}

/// Index of the next `byte` at or after `from`.
func findByte(_ s: UnsafeBufferPointer<UInt8>, _ byte: UInt8, from: Int) -> Int? {
    guard from < s.count, let base = s.baseAddress else { return nil }
    guard let p = memchr(base + from, Int32(byte), s.count - from) else { return nil }
    return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
}

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
