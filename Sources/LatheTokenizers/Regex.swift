import Foundation

/// A split or replace regex from `tokenizer.json`. Known pre-tokenizer patterns run as hand-written scanners;
/// any other pattern runs on `NSRegularExpression`, with `\s` widened to Oniguruma's White_Space set.
public final class TokenRegex: @unchecked Sendable {  // NSRegularExpression is immutable and documented thread-safe
    enum Kind {
        case gpt2
        case llama3(maxDigits: Int, foldLongS: Bool)
        case general(NSRegularExpression)
    }

    /// The pattern as written in `tokenizer.json`.
    public let pattern: String
    let kind: Kind

    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    static let llama3Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    /// llama.cpp's spelling of the Llama 3 contractions (`'[sS]` instead of `(?i:'s)`).
    static let llamaCppContractions = #"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"#

    /// Compiles `pattern`; `fast: false` forces the general matcher (used to test the scanners).
    public init(_ pattern: String, fast: Bool = true) throws {
        self.pattern = pattern
        let cpp = pattern.hasPrefix(TokenRegex.llamaCppContractions)
            ? "(?i:'s|'t|'re|'ve|'m|'ll|'d)" + pattern.dropFirst(TokenRegex.llamaCppContractions.count) : pattern
        if fast && pattern == TokenRegex.gpt2Pattern {
            kind = .gpt2
        } else if fast && cpp == TokenRegex.llama3Pattern {
            kind = .llama3(maxDigits: 3, foldLongS: cpp == pattern)
        } else if fast && cpp == TokenRegex.qwen2Pattern {
            kind = .llama3(maxDigits: 1, foldLongS: cpp == pattern)
        } else {
            kind = .general(try NSRegularExpression(pattern: TokenRegex.onigurumaSpaces(pattern)))
        }
    }

    /// Whether the pattern runs on a hand-written scanner.
    var isFast: Bool { if case .general = kind { return false } else { return true } }

    /// Appends the matches in `p[start..<end]` (absolute byte ranges, in order, non-overlapping) to `out`.
    func matches(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, into out: inout [Range<Int>]) {
        let table = charClassTable
        switch kind {
        case .gpt2:
            var i = start
            while i < end { let j = PatternScanners.gpt2(p, i, end, table); out.append(i..<j); i = j }
        case .llama3(let digits, let fold):
            var i = start
            while i < end {
                let j = PatternScanners.llama3(p, i, end, maxDigits: digits, foldLongS: fold, table)
                out.append(i..<j); i = j
            }
        case .general(let regex):
            generalMatches(regex, p, start, end, into: &out)
        }
    }

    private func generalMatches(_ regex: NSRegularExpression, _ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
                                into out: inout [Range<Int>]) {
        let text = String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)
        // UTF-16 offset → UTF-8 offset, to turn NSRange results back into byte ranges.
        var utf8At = [Int](); utf8At.reserveCapacity(text.utf16.count + 1)
        var offset = start
        for scalar in text.unicodeScalars {
            let u8 = UTF8.width(scalar), u16 = UTF16.width(scalar)
            for _ in 0..<u16 { utf8At.append(offset) }
            offset += u8
        }
        utf8At.append(offset)
        let ns = text as NSString
        for m in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) where m.range.location != NSNotFound {
            out.append(utf8At[m.range.location]..<utf8At[m.range.location + m.range.length])
        }
    }

    /// Rewrites `\s`, `\S`, `\w`, `\W` to Oniguruma's classes: White_Space (ICU's `\s` lacks U+000B and U+0085)
    /// and Alphabetic, marks, decimal digits, connector punctuation and Latin-1 ²³¹¼½¾ (ICU adds Join_Control).
    static func onigurumaSpaces(_ pattern: String) -> String {
        let set = #"\t\n\x{0B}\f\r\x{85}\p{Z}"#, word = #"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{B2}\x{B3}\x{B9}\x{BC}-\x{BE}"#
        var out = "", inClass = 0, escaped = false
        for ch in pattern {
            if escaped {
                escaped = false
                if ch == "s" { out += inClass > 0 ? set : "[\(set)]"; continue }
                if ch == "S" && inClass == 0 { out += "[^\(set)]"; continue }
                if ch == "w" { out += inClass > 0 ? word : "[\(word)]"; continue }
                if ch == "W" && inClass == 0 { out += "[^\(word)]"; continue }
                out += "\\"; out.append(ch); continue
            }
            switch ch {
            case "\\": escaped = true; continue
            case "[": inClass += 1
            case "]": inClass = max(0, inClass - 1)
            default: break
            }
            out.append(ch)
        }
        if escaped { out += "\\" }
        return out
    }
}
