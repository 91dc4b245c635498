import Foundation
import LatheFormats

/// A normalizer from `tokenizer.json`; the cases are HF's `"type"` strings.
public indirect enum Normalizer: Sendable {
    case NFC, NFD, NFKC, NFKD
    /// Unicode lowercase (Rust `str::to_lowercase`).
    case Lowercase
    /// Put `prepend` in front of non-empty text.
    case Prepend(String)
    /// Replace every match of the pattern with `content`.
    case Replace(pattern: SplitPattern, content: String)
    /// Remove whitespace at the left and/or right end.
    case Strip(left: Bool, right: Bool)
    /// Each normalizer in turn.
    case Sequence([Normalizer])

    /// Builds a normalizer from its JSON object; unknown types throw `unsupportedComponent`.
    static func from(_ node: JSONNode) throws -> Normalizer {
        let type = try node.required("type").string()
        switch type {
        case "NFC": return .NFC
        case "NFD": return .NFD
        case "NFKC": return .NFKC
        case "NFKD": return .NFKD
        case "Lowercase": return .Lowercase
        case "Prepend": return .Prepend(try node.required("prepend").string())
        case "Replace":
            return .Replace(pattern: try SplitPattern.from(try node.required("pattern")),
                            content: try node.required("content").string())
        case "Strip":
            return .Strip(left: try node.optionalBool("strip_left") ?? true, right: try node.optionalBool("strip_right") ?? true)
        case "Sequence":
            return .Sequence(try node.required("normalizers").array().map(Normalizer.from))
        default:
            throw TokenizerError.unsupportedComponent(file: node.file, path: node.path + ".type", type: type)
        }
    }

    /// The normalized text.
    public func apply(_ text: String) -> String {
        switch self {
        case .NFC: return text.precomposedStringWithCanonicalMapping
        case .NFD: return text.decomposedStringWithCanonicalMapping
        case .NFKC: return text.precomposedStringWithCompatibilityMapping
        case .NFKD: return text.decomposedStringWithCompatibilityMapping
        case .Lowercase: return lowercase(text)
        case .Prepend(let prefix): return text.isEmpty ? text : prefix + text
        case .Replace(let pattern, let content): return pattern.replacingAll(in: text, with: content)
        case .Strip(let left, let right):
            var scalars = Substring(text).unicodeScalars[...]
            if left { while let f = scalars.first, f.properties.isWhitespace { scalars.removeFirst() } }
            if right { while let l = scalars.last, l.properties.isWhitespace { scalars.removeLast() } }
            return String(String.UnicodeScalarView(scalars))
        case .Sequence(let list): return list.reduce(text) { $1.apply($0) }
        }
    }

    /// Each scalar's full lowercase mapping on its own, as HF `NormalizedString::lowercase` (Rust
    /// `char::to_lowercase`): no final-sigma context, so "ΟΔΟΣ" becomes "οδοσ".
    private func lowercase(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            if s.isASCII { out.append(s.properties.isUppercase ? Unicode.Scalar(UInt8(s.value + 32)) : s); continue }
            out.append(contentsOf: s.properties.lowercaseMapping.unicodeScalars)
        }
        return String(out)
    }
}
