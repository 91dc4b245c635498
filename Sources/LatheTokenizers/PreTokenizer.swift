import LatheFormats

/// A pre-tokenizer from `tokenizer.json`; the cases are HF's `"type"` strings.
public indirect enum PreTokenizer: Sendable {
    /// Split on the GPT-2 regex (`use_regex`), optionally after a leading space; the model sees bytes.
    case ByteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// Split on a literal or a regex with a delimiter behavior; `invert` splits on what does not match.
    case Split(pattern: SplitPattern, behavior: SplitBehavior, invert: Bool)
    /// Isolate digits, each alone (`individual_digits`) or in runs.
    case Digits(individualDigits: Bool)
    /// Replace spaces with `replacement`, prepend it per `prependScheme`, and split before it when `split`.
    case Metaspace(replacement: String, prependScheme: PrependScheme, split: Bool)
    /// Isolate each punctuation character (with the given behavior).
    case Punctuation(behavior: SplitBehavior)
    /// Runs of word characters and runs of other non-space characters (`\w+|[^\w\s]+`).
    case Whitespace
    /// Runs of non-whitespace.
    case WhitespaceSplit
    /// Each pre-tokenizer in turn.
    case Sequence([PreTokenizer])

    /// When Metaspace prepends its replacement: HF `PrependScheme`.
    public enum PrependScheme: String, Sendable { case first, always, never }

    /// Builds a pre-tokenizer from its JSON object; unknown types throw `unsupportedComponent`.
    static func from(_ node: JSONNode) throws -> PreTokenizer {
        let type = try node.required("type").string()
        switch type {
        case "ByteLevel":
            return .ByteLevel(addPrefixSpace: try node.optionalBool("add_prefix_space") ?? true,
                              useRegex: try node.optionalBool("use_regex") ?? true)
        case "Split":
            return .Split(pattern: try SplitPattern.from(try node.required("pattern")),
                          behavior: try behavior(node.required("behavior")),
                          invert: try node.optionalBool("invert") ?? false)
        case "Digits":
            return .Digits(individualDigits: try node.optionalBool("individual_digits") ?? false)
        case "Metaspace":
            let replacement = try node.optionalString("replacement") ?? "▁"
            guard replacement.unicodeScalars.count == 1 else {
                throw node.fail("Metaspace replacement must be one character (got \"\(replacement)\")")
            }
            return .Metaspace(replacement: replacement, prependScheme: try prependScheme(node),
                              split: try node.optionalBool("split") ?? true)
        case "Punctuation":
            return .Punctuation(behavior: try node.optional("behavior").map(behavior) ?? .Isolated)
        case "Whitespace": return .Whitespace
        case "WhitespaceSplit": return .WhitespaceSplit
        case "Sequence":
            let list = try node.required("pretokenizers").array().map(PreTokenizer.from)
            if let i = list.dropLast().firstIndex(where: { if case .ByteLevel = $0 { return true } else { return false } }) {
                // The model reads a ByteLevel piece as bytes, so nothing may reshape the text after it.
                throw TokenizerError.unsupportedComponent(file: node.file, path: "\(node.path).pretokenizers[\(i + 1)]",
                                                          type: "pre-tokenizer after ByteLevel")
            }
            return .Sequence(list)
        default:
            throw TokenizerError.unsupportedComponent(file: node.file, path: node.path + ".type", type: type)
        }
    }

    static func behavior(_ node: JSONNode) throws -> SplitBehavior {
        let name = try node.string()
        guard let b = SplitBehavior(rawValue: name) else { throw node.fail("unknown split behavior \"\(name)\"") }
        return b
    }

    private static func prependScheme(_ node: JSONNode) throws -> PrependScheme {
        if let name = try node.optionalString("prepend_scheme") {
            guard let s = PrependScheme(rawValue: name) else { throw node.fail("unknown prepend_scheme \"\(name)\"") }
            return s
        }
        return (try node.optionalBool("add_prefix_space") ?? true) ? .always : .never  // older files
    }

    /// Whether the model receives byte-level pieces (a ByteLevel pre-tokenizer is present).
    var isByteLevel: Bool {
        switch self {
        case .ByteLevel: return true
        case .Sequence(let list): return list.contains { $0.isByteLevel }
        default: return false
        }
    }

    /// Cuts (and, for Metaspace and ByteLevel's prefix space, rewrites) the pieces.
    func apply(_ text: inout Pieces) {
        switch self {
        case .ByteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace {
                text.transform { piece, _, out in
                    if piece.first != 0x20 { out.append(0x20) }
                    out.append(contentsOf: piece)
                }
            }
            if useRegex { text.split { p, r, out in gpt2Regex.matches(p, r.lowerBound, r.upperBound, into: &out) } }
        case .Split(let pattern, let behavior, let invert):
            if case .regex(let regex) = pattern, regex.isFast, behavior == .Isolated, !invert {
                text.split { p, r, out in regex.matches(p, r.lowerBound, r.upperBound, into: &out) }  // the matches tile
                return
            }
            var found = [Range<Int>]()
            text.split { p, r, out in
                found.removeAll(keepingCapacity: true)
                pattern.matches(p, r, into: &found)
                behavior.apply(r, matches: found, invert: invert, into: &out)
            }
        case .Digits(let individual):
            splitOnScalars(&text, individual ? .Isolated : .Contiguous) { _, c in c.contains(.number) }
        case .Punctuation(let behavior):
            splitOnScalars(&text, behavior) { _, c in c.contains(.punctuation) }
        case .WhitespaceSplit:
            splitOnScalars(&text, .Removed) { _, c in c.contains(.space) }
        case .Whitespace:
            text.split { p, r, out in wordRuns(p, r, into: &out) }
        case .Metaspace(let replacement, let scheme, let split):
            let rep = Array(replacement.utf8)
            text.transform { piece, atOrigin, out in
                let startsWithRep = piece.starts(with: rep) || (piece.first == 0x20)
                if !startsWithRep && (scheme == .always || (scheme == .first && atOrigin)) { out.append(contentsOf: rep) }
                for b in piece { if b == 0x20 { out.append(contentsOf: rep) } else { out.append(b) } }
            }
            if split {
                var found = [Range<Int>]()
                text.split { p, r, out in
                    found.removeAll(keepingCapacity: true)
                    literalMatches(p, r, rep, into: &found)
                    SplitBehavior.MergedWithNext.apply(r, matches: found, invert: false, into: &out)
                }
            }
        case .Sequence(let list):
            for step in list { step.apply(&text) }
        }
    }

    private func splitOnScalars(_ text: inout Pieces, _ behavior: SplitBehavior, _ predicate: @escaping (UInt32, CharClass) -> Bool) {
        var found = [Range<Int>]()
        text.split { p, r, out in
            found.removeAll(keepingCapacity: true)
            scalarMatches(p, r, into: &found, predicate)
            behavior.apply(r, matches: found, invert: false, into: &out)
        }
    }
}

/// The regex of HF's ByteLevel pre-tokenizer, compiled once.
let gpt2Regex: TokenRegex = {
    do { return try TokenRegex(TokenRegex.gpt2Pattern) } catch { preconditionFailure("GPT-2 pattern is fixed and valid") }
}()

/// `\w+|[^\w\s]+` with Oniguruma classes: maximal runs of word scalars and of other non-space scalars.
func wordRuns(_ p: UnsafeBufferPointer<UInt8>, _ r: Range<Int>, into out: inout [Range<Int>]) {
    var i = r.lowerBound
    var runStart = -1, runWord = false
    while i < r.upperBound {
        let (v, n) = decodeScalar(p, i)
        let c = CharClass.of(v)
        if c.contains(.space) {
            if runStart >= 0 { out.append(runStart..<i); runStart = -1 }
        } else {
            let word = c.contains(.word)
            if runStart >= 0 && word != runWord { out.append(runStart..<i); runStart = -1 }
            if runStart < 0 { runStart = i; runWord = word }
        }
        i += n
    }
    if runStart >= 0 { out.append(runStart..<r.upperBound) }
}

/// What a Split pre-tokenizer or a Replace normalizer/decoder looks for: `{"String": …}` or `{"Regex": …}`.
public enum SplitPattern: Sendable {
    case string(String)
    case regex(TokenRegex)

    static func from(_ node: JSONNode) throws -> SplitPattern {
        if let s = try node.optionalString("String") { return .string(s) }
        if let r = try node.optionalString("Regex") {
            do { return .regex(try TokenRegex(r)) } catch {
                throw node.fail("regex \"\(r)\" does not compile: \(error)")
            }
        }
        throw node.fail("expected {\"String\": …} or {\"Regex\": …}")
    }

    /// Appends the matches in `p[range]` to `out`.
    func matches(_ p: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into out: inout [Range<Int>]) {
        switch self {
        case .string(let s): literalMatches(p, range, Array(s.utf8), into: &out)
        case .regex(let r): r.matches(p, range.lowerBound, range.upperBound, into: &out)
        }
    }

    /// `text` with every match replaced by `content`.
    func replacingAll(in text: String, with content: String) -> String {
        var bytes = Array(text.utf8)
        var found = [Range<Int>]()
        bytes.withUnsafeBufferPointer { p in matches(p, 0..<p.count, into: &found) }
        guard !found.isEmpty else { return text }
        var out = [UInt8](); out.reserveCapacity(bytes.count)
        var prev = 0
        let rep = Array(content.utf8)
        for r in found { out.append(contentsOf: bytes[prev..<r.lowerBound]); out.append(contentsOf: rep); prev = r.upperBound }
        out.append(contentsOf: bytes[prev...])
        bytes = out
        return String(decoding: bytes, as: UTF8.self)
    }
}
