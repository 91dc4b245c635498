import Foundation
import LatheFormats

/// A Hugging Face–compatible tokenizer: added tokens, normalizer, pre-tokenizer, BPE model, post-processor and
/// decoder, loaded from `tokenizer.json` or from GGUF metadata. Immutable and safe to share across threads.
public final class Tokenizer: Sendable {
    /// `tokenizer.json` `normalizer`.
    public let normalizer: Normalizer?
    /// `tokenizer.json` `pre_tokenizer`.
    public let preTokenizer: PreTokenizer?
    /// `tokenizer.json` `model` (BPE).
    public let model: BPEModel
    /// `tokenizer.json` `post_processor`, applied by `encode(addSpecialTokens: true)`.
    public let postProcessor: PostProcessor?
    /// `tokenizer.json` `decoder`; without one, `decode` joins tokens with spaces as HF does.
    public let decoder: TokenDecoder?
    /// `tokenizer.json` `added_tokens`.
    public let addedTokens: [AddedToken]
    /// Special tokens, BOS/EOS flags and chat templates from `tokenizer_config.json` or GGUF metadata.
    public let config: TokenizerConfig
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    private let addedById: [Int32: AddedToken]
    private let addedByContent: [String: Int32]
    private let pool = ScratchPool()

    /// Assembles a tokenizer from its parts (`addedTokens` as in `tokenizer.json`).
    public init(normalizer: Normalizer?, preTokenizer: PreTokenizer?, model: BPEModel, postProcessor: PostProcessor?,
                decoder: TokenDecoder?, addedTokens: [AddedToken], config: TokenizerConfig) {
        self.normalizer = normalizer; self.preTokenizer = preTokenizer; self.model = model
        self.postProcessor = postProcessor; self.decoder = decoder; self.addedTokens = addedTokens; self.config = config
        let raw = addedTokens.filter { !$0.normalized }, norm = addedTokens.filter { $0.normalized }
        rawMatcher = AddedTokenMatcher(raw, patterns: raw.map(\.content))
        normalizedMatcher = AddedTokenMatcher(norm, patterns: norm.map { normalizer?.apply($0.content) ?? $0.content })
        addedById = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        addedByContent = Dictionary(addedTokens.map { ($0.content, $0.id) }, uniquingKeysWith: { a, _ in a })
    }

    /// Loads `tokenizer.json`, or a model directory holding `tokenizer.json` (and `tokenizer_config.json`,
    /// `chat_template.jinja` when present). GGUF files go through `Tokenizer(gguf:)`.
    public static func load(_ url: URL) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TokenizerError.malformed(file: url.path, path: "$", message: "no such file or directory")
        }
        let folder = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        let file = isDirectory.boolValue ? url.appendingPathComponent("tokenizer.json") : url
        var config = TokenizerConfig()
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) { config = try TokenizerConfig.load(configURL) }
        let templateURL = folder.appendingPathComponent("chat_template.jinja")
        if config.chatTemplate == nil, let template = try? String(contentsOf: templateURL, encoding: .utf8) {
            config.chatTemplates["default"] = template
        }
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw TokenizerError.malformed(file: file.path, path: "$",
                                           message: "cannot read the file (\(error.localizedDescription)); expected a tokenizer.json")
        }
        return try Tokenizer(json: data, file: file.path, config: config)
    }

    /// Parses the contents of a `tokenizer.json`; `file` names it in errors.
    public convenience init(json data: Data, file: String = "tokenizer.json", config: TokenizerConfig = TokenizerConfig()) throws {
        let (normalizer, pre, post, decoder, added, model) = try TokenizerError.reading {
            let root = try JSONNode.parse(data, file: file)
            let normalizer = try root.optional("normalizer").map(Normalizer.from)
            let pre = try root.optional("pre_tokenizer").map(PreTokenizer.from)
            let post = try root.optional("post_processor").map(PostProcessor.from)
            let decoder = try root.optional("decoder").map(TokenDecoder.from)
            let added = try root.optional("added_tokens")?.array().map(AddedToken.from) ?? []
            let model = try Tokenizer.bpe(root.required("model"), byteLevel: pre?.isByteLevel ?? false)
            return (normalizer, pre, post, decoder, added, model)
        }
        self.init(normalizer: normalizer, preTokenizer: pre, model: model, postProcessor: post, decoder: decoder,
                  addedTokens: added, config: config)
    }

    private static func bpe(_ node: JSONNode, byteLevel: Bool) throws -> BPEModel {
        let type = try node.optionalString("type") ?? "BPE"
        guard type == "BPE" else { throw TokenizerError.unsupportedComponent(file: node.file, path: node.path + ".type", type: type) }
        let vocabNode = try node.required("vocab")
        let entries = try vocabNode.members()
        var tokens = [String](repeating: "", count: entries.count)
        for (token, value) in entries {
            let id = try value.int()
            guard id >= 0, id < 1 << 24 else { throw value.fail("token \"\(token)\" has an invalid id \(id)") }
            if id >= tokens.count { tokens += [String](repeating: "", count: id + 1 - tokens.count) }
            tokens[id] = token
        }
        var merges = [(String, String)]()
        for entry in try node.optional("merges")?.array() ?? [] {
            if let s = entry.stringValue {
                let parts = splitMerge(s)
                guard parts.count == 2 else { throw entry.fail("expected \"left right\", got \"\(s)\"") }
                merges.append((parts[0], parts[1]))
            } else {
                let pair = try entry.array()
                guard pair.count == 2 else { throw entry.fail("expected \"a b\" or [a, b]") }
                merges.append((try pair[0].string(), try pair[1].string()))
            }
        }
        if let dropout = try node.optionalDouble("dropout"), dropout > 0 {
            throw TokenizerError.unsupportedComponent(file: node.file, path: node.path + ".dropout", type: "BPE dropout")
        }
        return try BPEModel(tokens: tokens, merges: merges, unkToken: try node.optionalString("unk_token"),
                            fuseUnk: try node.optionalBool("fuse_unk") ?? false,
                            byteFallback: try node.optionalBool("byte_fallback") ?? false,
                            ignoreMerges: try node.optionalBool("ignore_merges") ?? false,
                            prefix: try node.optionalString("continuing_subword_prefix"),
                            suffix: try node.optionalString("end_of_word_suffix"), byteLevel: byteLevel, file: node.file)
    }

    /// Token ids of `text`. Text spelling a special token (`<|im_end|>`) stays plain text unless `allowSpecial`;
    /// non-special added tokens always match. `addSpecialTokens` applies the post-processor (e.g. BOS).
    public func encode(_ text: String, addSpecialTokens: Bool = false, allowSpecial: Bool = false) -> [Int32] {
        var scratch = pool.take()
        defer { pool.put(scratch) }
        var ids = [Int32]()
        ids.reserveCapacity(text.utf8.count / 3 + 4)
        let bytes = Array(text.utf8)
        bytes.withUnsafeBufferPointer { p in
            for (range, id) in rawMatcher.split(p, 0..<p.count, allowSpecial: allowSpecial) {
                if let id { ids.append(id) } else { encodeText(Array(p[range]), atOrigin: range.lowerBound == 0, &scratch, &ids, allowSpecial) }
            }
        }
        return addSpecialTokens ? (postProcessor?.apply(ids) ?? ids) : ids
    }

    /// Normalizes a span between added tokens, matches normalized added tokens, pre-tokenizes and runs the model.
    private func encodeText(_ raw: [UInt8], atOrigin: Bool, _ scratch: inout BPEScratch, _ ids: inout [Int32], _ allowSpecial: Bool) {
        let bytes = normalizer.map { Array($0.apply(String(decoding: raw, as: UTF8.self)).utf8) } ?? raw
        if normalizedMatcher.isEmpty { return runModel(bytes, atOrigin: atOrigin, &scratch, &ids) }
        let parts = bytes.withUnsafeBufferPointer { normalizedMatcher.split($0, 0..<$0.count, allowSpecial: allowSpecial) }
        for (range, id) in parts {
            if let id { ids.append(id) } else { runModel(Array(bytes[range]), atOrigin: atOrigin && range.lowerBound == 0, &scratch, &ids) }
        }
    }

    private func runModel(_ bytes: [UInt8], atOrigin: Bool, _ scratch: inout BPEScratch, _ ids: inout [Int32]) {
        var text = Pieces(bytes: bytes, atOrigin: atOrigin)
        preTokenizer?.apply(&text)
        text.bytes.withUnsafeBufferPointer { p in
            for piece in text.pieces { model.encode(p, piece.range, &scratch, into: &ids) }
        }
    }

    /// The text of `ids` through the decoder (HF `Tokenizer::decode`); unknown ids are skipped.
    public func decode(_ ids: [Int32], skipSpecialTokens: Bool = false) -> String {
        var tokens = [String]()
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let added = addedById[id] {
                if !(skipSpecialTokens && added.special) { tokens.append(added.content) }
            } else if id >= 0 && Int(id) < model.tokens.count {
                tokens.append(model.tokens[Int(id)])
            }
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.apply(tokens).joined()
    }

    /// The id of a token string (added tokens first, then the model's vocabulary).
    public func id(of token: String) -> Int32? {
        if let id = addedByContent[token] { return id }
        return model.byToken.get(Array(token.utf8)).map { Int32($0) }
    }

    /// The token string of an id.
    public func token(of id: Int32) -> String? {
        if let added = addedById[id] { return added.content }
        return id >= 0 && Int(id) < model.tokens.count ? model.tokens[Int(id)] : nil
    }

    /// One more than the largest id (model vocabulary and added tokens).
    public var vocabularySize: Int { max(model.tokens.count, Int(addedTokens.map(\.id).max() ?? -1) + 1) }

    /// Whether `id` is a special added token.
    public func isSpecial(_ id: Int32) -> Bool { addedById[id]?.special ?? false }

    /// The BOS id named by the config, when it is in the vocabulary.
    public var bosTokenId: Int32? { config.bosToken.flatMap { id(of: $0) } }
    /// The EOS id named by the config, when it is in the vocabulary.
    public var eosTokenId: Int32? { config.eosToken.flatMap { id(of: $0) } }
}

/// BPE scratch memory handed out one per concurrent `encode` call, so threads never share a cache.
final class ScratchPool: @unchecked Sendable {  // every access to `free` holds `lock`
    private let lock = NSLock()
    private var free: [BPEScratch] = []

    func take() -> BPEScratch {
        lock.lock(); defer { lock.unlock() }
        return free.popLast() ?? BPEScratch()
    }

    func put(_ scratch: BPEScratch) {
        lock.lock(); defer { lock.unlock() }
        free.append(scratch)
    }
}

/// A merge written as "left right", cut at its spaces by scalar (a space may precede a combining mark).
func splitMerge(_ merge: String) -> [String] {
    merge.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
}
