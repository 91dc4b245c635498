/// Hand-written scanners for the split regexes of GPT-2 and Llama-3 / Qwen2 style tokenizers.
/// Each returns where the regex's next match starting at `i` ends; these patterns match every scalar, so the
/// matches tile the text. They equal the regexes evaluated by Oniguruma (tested against the general matcher).
enum PatternScanners {
    /// The class of scalar `v` from `table` (`charClassTable`, passed in so the hot loop skips its lazy-init check).
    @inline(__always) private static func cls(_ v: UInt32, _ t: UnsafePointer<UInt8>) -> CharClass {
        v < CharClass.tableLimit ? CharClass(rawValue: t[Int(v)]) : CharClass.compute(v)
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` (GPT-2, HF ByteLevel).
    static func gpt2(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, _ t: UnsafePointer<UInt8>) -> Int {
        let b = p[i]
        if b == 0x27, i + 1 < end {  // '
            let c = p[i + 1]
            if c == 0x73 || c == 0x74 || c == 0x6D || c == 0x64 { return i + 2 }  // s t m d
            if i + 2 < end {
                let d = p[i + 2]
                if (c == 0x72 && d == 0x65) || (c == 0x76 && d == 0x65) || (c == 0x6C && d == 0x6C) { return i + 3 }
            }
        }
        let j = (b == 0x20 && i + 1 < end) ? i + 1 : i
        let (v, n) = decodeScalar(p, j)
        let c = cls(v, t)
        if c.contains(.letter) { return run(p, j + n, end, .letter, t) }
        if c.contains(.number) { return run(p, j + n, end, .number, t) }
        if !c.contains(.space) { return otherRun(p, j + n, end, t) }
        return whitespace(p, i, end, newlines: false, t)
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// (Llama 3 with maxDigits 3, Qwen2 with 1). `foldLongS`: the `(?i:…)` spelling, where `s` also matches `ſ`.
    static func llama3(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, maxDigits: Int, foldLongS: Bool,
                       _ t: UnsafePointer<UInt8>) -> Int {
        let b = p[i]
        if b == 0x27, i + 1 < end, let k = contraction(p, i + 1, end, foldLongS: foldLongS) { return k }
        let (v, n) = decodeScalar(p, i)
        let c = cls(v, t)
        if c.contains(.letter) { return run(p, i + n, end, .letter, t) }
        if !c.contains(.number) && b != 0x0D && b != 0x0A && i + n < end {
            let (w, _) = decodeScalar(p, i + n)
            if cls(w, t).contains(.letter) { return run(p, i + n, end, .letter, t) }
        }
        if c.contains(.number) {
            var k = i + n, digits = 1
            while digits < maxDigits && k < end {
                let (w, m) = decodeScalar(p, k)
                guard cls(w, t).contains(.number) else { break }
                k += m; digits += 1
            }
            return k
        }
        let j = (b == 0x20 && i + 1 < end) ? i + 1 : i
        let (w, m) = j == i ? (v, n) : decodeScalar(p, j)
        if cls(w, t).isDisjoint(with: [.space, .letter, .number]) {
            var k = otherRun(p, j + m, end, t)
            while k < end && (p[k] == 0x0D || p[k] == 0x0A) { k += 1 }
            return k
        }
        return whitespace(p, i, end, newlines: true, t)
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d` case-insensitively, with the apostrophe before `i`; the match end.
    private static func contraction(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, foldLongS: Bool) -> Int? {
        let c = p[i] | 0x20
        if c == 0x73 || c == 0x74 || c == 0x6D || c == 0x64 { return i + 1 }
        if foldLongS && p[i] == 0xC5 && i + 1 < end && p[i + 1] == 0xBF { return i + 2 }  // ſ folds to s
        if i + 1 < end {
            let d = p[i + 1] | 0x20
            if (c == 0x72 && d == 0x65) || (c == 0x76 && d == 0x65) || (c == 0x6C && d == 0x6C) { return i + 2 }
        }
        return nil
    }

    /// Extends from `k` over scalars of class `cls`.
    @inline(__always) private static func run(_ p: UnsafeBufferPointer<UInt8>, _ k: Int, _ end: Int, _ want: CharClass,
                                                 _ t: UnsafePointer<UInt8>) -> Int {
        var k = k
        while k < end {
            let (v, n) = decodeScalar(p, k)
            guard cls(v, t).contains(want) else { break }
            k += n
        }
        return k
    }

    /// Extends from `k` over `[^\s\p{L}\p{N}]`.
    @inline(__always) private static func otherRun(_ p: UnsafeBufferPointer<UInt8>, _ k: Int, _ end: Int, _ t: UnsafePointer<UInt8>) -> Int {
        var k = k
        while k < end {
            let (v, n) = decodeScalar(p, k)
            guard cls(v, t).isDisjoint(with: [.space, .letter, .number]) else { break }
            k += n
        }
        return k
    }

    /// The whitespace alternatives at `i`: `\s*[\r\n]+` (when `newlines`), then `\s+(?!\S)`, then `\s+`.
    private static func whitespace(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, _ end: Int, newlines: Bool,
                                   _ t: UnsafePointer<UInt8>) -> Int {
        var k = i, lastStart = i, afterNewline = -1
        while k < end {
            let (v, n) = decodeScalar(p, k)
            guard cls(v, t).contains(.space) else { break }
            if v == 0x0D || v == 0x0A { afterNewline = k + n }
            lastStart = k
            k += n
        }
        if newlines && afterNewline > i { return afterNewline }
        if k == end || lastStart == i { return k }
        return lastStart
    }
}
