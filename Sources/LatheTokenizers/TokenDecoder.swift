import LatheFormats

/// A decoder from `tokenizer.json` (named apart from `Swift.Decoder`), turning token strings back into text;
/// the cases are HF's `"type"` strings.
public indirect enum TokenDecoder: Sendable {
    /// Join the tokens and map byte-level characters back to bytes (invalid UTF-8 becomes U+FFFD).
    case ByteLevel
    /// Turn runs of `<0xXX>` tokens into the text their bytes spell, or one U+FFFD per byte when not UTF-8.
    case ByteFallback
    /// Join all tokens into one.
    case Fuse
    /// Remove up to `start` leading and `stop` trailing `content` characters from each token.
    case Strip(content: Unicode.Scalar, start: Int, stop: Int)
    /// Replace each match of the pattern with `content` in each token.
    case Replace(pattern: SplitPattern, content: String)
    /// Replace `replacement` by a space (dropped in the first token unless the scheme is `never`).
    case Metaspace(replacement: Unicode.Scalar, prependScheme: PreTokenizer.PrependScheme)
    /// Each decoder in turn.
    case Sequence([TokenDecoder])

    /// Builds a decoder from its JSON object; unknown types throw `unsupportedComponent`.
    static func from(_ node: JSONNode) throws -> TokenDecoder {
        let type = try node.required("type").string()
        switch type {
        case "ByteLevel": return .ByteLevel
        case "ByteFallback": return .ByteFallback
        case "Fuse": return .Fuse
        case "Strip":
            let content = try node.required("content").string()
            guard content.unicodeScalars.count == 1, let c = content.unicodeScalars.first else { throw node.fail("Strip content must be one character") }
            return .Strip(content: c, start: try node.optionalInt("start") ?? 0, stop: try node.optionalInt("stop") ?? 0)
        case "Replace":
            return .Replace(pattern: try SplitPattern.from(try node.required("pattern")),
                            content: try node.required("content").string())
        case "Metaspace":
            let rep = try node.optionalString("replacement") ?? "▁"
            guard rep.unicodeScalars.count == 1, let r = rep.unicodeScalars.first else {
                throw node.fail("Metaspace replacement must be one character")
            }
            var scheme = PreTokenizer.PrependScheme.always
            if let name = try node.optionalString("prepend_scheme") {
                guard let s = PreTokenizer.PrependScheme(rawValue: name) else { throw node.fail("unknown prepend_scheme \"\(name)\"") }
                scheme = s
            } else if try node.optionalBool("add_prefix_space") == false {
                scheme = .never
            }
            return .Metaspace(replacement: r, prependScheme: scheme)
        case "Sequence":
            return .Sequence(try node.required("decoders").array().map(TokenDecoder.from))
        default:
            throw TokenizerError.unsupportedComponent(file: node.file, path: node.path + ".type", type: type)
        }
    }

    /// HF `Decoder::decode_chain`: the tokens after this decoder.
    public func apply(_ tokens: [String]) -> [String] {
        switch self {
        case .ByteLevel:
            var bytes = [UInt8]()
            for t in tokens {
                if let raw = ByteLevelAlphabet.bytes(of: t) { bytes.append(contentsOf: raw) } else { bytes.append(contentsOf: t.utf8) }
            }
            return [String(decoding: bytes, as: UTF8.self)]
        case .ByteFallback:
            var out = [String](), pending = [UInt8]()
            func flush() {
                guard !pending.isEmpty else { return }
                if let s = String(validating: pending, as: UTF8.self) { out.append(s) }
                else { out.append(contentsOf: repeatElement("\u{FFFD}", count: pending.count)) }
                pending.removeAll()
            }
            for t in tokens {
                let u = Array(t.utf8)
                if u.count == 6, t.hasPrefix("<0x"), u[5] == 0x3E, let b = UInt8(String(decoding: u[3..<5], as: UTF8.self), radix: 16) {
                    pending.append(b)
                } else {
                    flush(); out.append(t)
                }
            }
            flush()
            return out
        case .Fuse:
            return [tokens.joined()]
        case .Strip(let content, let start, let stop):
            return tokens.map { t in
                var chars = Substring(t).unicodeScalars[...]
                var n = 0
                while n < start, chars.first == content { chars.removeFirst(); n += 1 }
                n = 0
                while n < stop, chars.last == content { chars.removeLast(); n += 1 }
                return String(String.UnicodeScalarView(chars))
            }
        case .Replace(let pattern, let content):
            return tokens.map { pattern.replacingAll(in: $0, with: content) }
        case .Metaspace(let rep, let scheme):
            return tokens.enumerated().map { i, t in
                var out = String.UnicodeScalarView()
                for s in t.unicodeScalars {
                    if s == rep { if i != 0 || scheme == .never { out.append(" ") } } else { out.append(s) }
                }
                return String(out)
            }
        case .Sequence(let list):
            return list.reduce(tokens) { $1.apply($0) }
        }
    }
}
