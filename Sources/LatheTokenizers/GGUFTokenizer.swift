import LatheFormats

/// Split regexes for GGUF `tokenizer.ggml.pre` names, as transformers maps them (`GGUF_PRE_TOKENIZER_SPLITS`,
/// after llama.cpp `llama-vocab.cpp`). Names not listed (`default`, `gpt-2`, `smollm`, …) keep GPT-2's ByteLevel
/// regex, which is what transformers builds; llama.cpp additionally isolates digits for `smollm`, which gives the
/// same ids with SmolLM's merges (no merge joins a digit to anything).
public let ggufPreTokenizerSplits: [String: String] = {
    let llama3 = TokenRegex.llama3Pattern, qwen2 = TokenRegex.qwen2Pattern
    var table = [String: String]()
    for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx", "smaug-bpe"] {
        table[name] = llama3
    }
    for name in ["qwen2", "deepseek-r1-qwen", "megrez"] { table[name] = qwen2 }
    return table
}()

extension Tokenizer {
    /// Builds from GGUF `tokenizer.*` metadata the tokenizer transformers builds from that file
    /// (`tokenizer.ggml.model` `gpt2`: byte-level BPE; `llama`: SentencePiece-style BPE with byte fallback).
    /// As transformers (5.24, `integrations/gguf/gguf_tokenizer_mapping.py`), no byte-level vocabulary gets a
    /// normalizer, whatever `general.architecture` says: a Qwen2/Qwen3 GGUF does not apply the NFC of Qwen's
    /// tokenizer.json, so "e" + U+0301 and "é" keep different ids, as in llama.cpp. A SentencePiece vocabulary of
    /// architecture `phi3` puts its prefix space in a normalizer (`Prepend` + `Replace`) instead of `Metaspace`;
    /// one of architecture `gemma`/`gemma2`/`gemma3` is GemmaTokenizer's: spaces become "▁" with no prefix,
    /// whitespace-only tokens are spelled with "▁", `<unk>` is the unknown token, the decoder strips nothing.
    public convenience init(gguf metadata: [String: GGUFValue], file: String = "model.gguf") throws {
        func fail(_ key: String, _ message: String) -> TokenizerError { .malformed(file: file, path: key, message: message) }
        func strings(_ key: String) throws -> [String]? {
            guard let value = metadata[key] else { return nil }
            guard let array = value.array else { throw fail(key, "expected an array of strings") }
            return try array.map { guard let s = $0.string else { throw fail(key, "expected an array of strings") }; return s }
        }
        guard let kind = metadata["tokenizer.ggml.model"]?.string else {
            throw fail("tokenizer.ggml.model", "missing; this GGUF has no tokenizer (use the model's tokenizer.json)")
        }
        guard let tokens = try strings("tokenizer.ggml.tokens") else { throw fail("tokenizer.ggml.tokens", "missing") }
        let types = try metadata["tokenizer.ggml.token_type"].map { v -> [Int] in
            guard let a = v.array else { throw fail("tokenizer.ggml.token_type", "expected an array of integers") }
            return try a.map { guard let i = $0.int else { throw fail("tokenizer.ggml.token_type", "expected integers") }; return i }
        } ?? []
        func specialId(_ key: String) throws -> Int? {
            guard let value = metadata["tokenizer.ggml.\(key)"] else { return nil }
            guard let id = value.int else { throw fail("tokenizer.ggml.\(key)", "expected an integer") }
            guard id >= 0 && id < tokens.count else {
                throw TokenizerError.unknownToken(file: file, message:
                    "tokenizer.ggml.\(key) = \(id) is beyond the \(tokens.count) tokens of tokenizer.ggml.tokens; the file is inconsistent")
            }
            return id
        }
        let bos = try specialId("bos_token_id"), eos = try specialId("eos_token_id")
        let unk = try specialId("unknown_token_id"), pad = try specialId("padding_token_id")

        var vocab = tokens
        var merges: [(String, String)]
        var normalizer: Normalizer? = nil
        let pre: PreTokenizer?, decoder: TokenDecoder
        let byteLevel = kind == "gpt2"
        let architecture = metadata["general.architecture"]?.string ?? ""
        let gemma = ["gemma", "gemma2", "gemma3"].contains(architecture)
        switch kind {
        case "gpt2":
            vocab = tokens.map { ByteLevelAlphabet.bytes(of: $0) != nil ? $0 : ByteLevelAlphabet.spell($0.utf8) }
            if let split = metadata["tokenizer.ggml.pre"]?.string.flatMap({ ggufPreTokenizerSplits[$0] }) {
                pre = .Sequence([.Split(pattern: .regex(try TokenRegex(split)), behavior: .Isolated, invert: false),
                                 .ByteLevel(addPrefixSpace: false, useRegex: false)])
            } else {
                pre = .ByteLevel(addPrefixSpace: false, useRegex: true)
            }
            decoder = .ByteLevel
        case "llama" where gemma:  // transformers' `gemma_tokenizer` (GemmaTokenizer)
            vocab = tokens.map { t in
                t.contains(" ") && t.unicodeScalars.allSatisfy(\.properties.isWhitespace)
                    ? String(repeating: "▁", count: t.unicodeScalars.count) : t
            }
            normalizer = .Replace(pattern: .string(" "), content: "▁")
            pre = .Split(pattern: .string(" "), behavior: .MergedWithPrevious, invert: false)
            decoder = .Sequence([.Replace(pattern: .string("▁"), content: " "), .ByteFallback, .Fuse])
        case "llama":
            if architecture == "phi3" {  // transformers' `phi3_tokenizer`
                normalizer = .Sequence([.Prepend("▁"), .Replace(pattern: .string(" "), content: "▁")])
                pre = nil
            } else {
                pre = .Metaspace(replacement: "▁", prependScheme: .first, split: false)
            }
            decoder = .Sequence([.Replace(pattern: .string("▁"), content: " "), .ByteFallback, .Fuse,
                                 .Strip(content: " ", start: 1, stop: 0)])
        default:
            throw TokenizerError.unsupportedComponent(file: file, path: "tokenizer.ggml.model", type: kind)
        }
        if let list = try strings("tokenizer.ggml.merges") {
            merges = try list.enumerated().map { i, m in
                let parts = splitMerge(m)
                guard parts.count == 2 else { throw fail("tokenizer.ggml.merges[\(i)]", "expected \"left right\", got \"\(m)\"") }
                return (parts[0], parts[1])
            }
        } else if gemma {  // Gemma's scores do not follow its merge order; its token order does
            merges = generateMerges(vocab, scores: vocab.indices.map { -Double($0) })
        } else if let scores = metadata["tokenizer.ggml.scores"]?.array?.compactMap(\.double), scores.count == tokens.count {
            merges = generateMerges(vocab, scores: scores)
        } else {
            throw fail("tokenizer.ggml.merges", "missing, and no tokenizer.ggml.scores to derive merges from")
        }
        let unkToken = gemma && vocab.contains("<unk>") ? "<unk>" : nil  // GemmaTokenizer names its unknown token
        let model = try BPEModel(tokens: vocab, merges: merges, unkToken: unkToken, fuseUnk: !byteLevel, byteFallback: !byteLevel,
                                 ignoreMerges: false, prefix: nil, suffix: nil, byteLevel: byteLevel, file: file)

        // As transformers' `add_gguf_special_tokens`: control tokens (type 3) and the named special tokens are special
        // added tokens, user-defined ones (type 4) plain added tokens. In a byte-level vocabulary a control token
        // spelled outside the byte alphabet is a mislabel and is skipped, and a user-defined one must be in the
        // (respelled) vocabulary as written.
        var added = [AddedToken](), seen = Set<Int>()
        let named = Set([bos, eos, unk, pad].compactMap { $0 })
        let vocabSet = Set(vocab)
        for (id, token) in tokens.enumerated() {
            let type = id < types.count ? types[id] : 1
            let spelled = !byteLevel || ByteLevelAlphabet.bytes(of: token) != nil
            if (type == 3 && spelled) || named.contains(id) {
                added.append(AddedToken(id: Int32(id), content: vocab[id], special: true)); seen.insert(id)
            }
        }
        for (id, token) in tokens.enumerated() where id < types.count && types[id] == 4 && !seen.contains(id) {
            if vocabSet.contains(token) { added.append(AddedToken(id: Int32(id), content: token, special: false)) }
        }
        var config = TokenizerConfig(bosToken: bos.map { vocab[$0] }, eosToken: eos.map { vocab[$0] },
                                     unkToken: unk.map { vocab[$0] }, padToken: pad.map { vocab[$0] },
                                     addBosToken: metadata["tokenizer.ggml.add_bos_token"]?.bool ?? (kind == "llama"),
                                     addEosToken: metadata["tokenizer.ggml.add_eos_token"]?.bool ?? false)
        if let template = metadata["tokenizer.chat_template"]?.string { config.chatTemplates["default"] = template }
        var single = [PostProcessor.TemplatePiece]()
        if config.addBosToken == true, let bos { single.append(.special([Int32(bos)])) }
        single.append(.sequence)
        if config.addEosToken == true, let eos { single.append(.special([Int32(eos)])) }
        self.init(normalizer: normalizer, preTokenizer: pre, model: model, postProcessor: .TemplateProcessing(single: single),
                  decoder: decoder, addedTokens: added, config: config)
    }
}

/// Merges implied by a vocabulary and its scores (transformers `generate_merges`): every split of a token into two
/// tokens, best score first, then shorter left and right parts.
func generateMerges(_ tokens: [String], scores: [Double]) -> [(String, String)] {
    var index = [String: Int]()
    for (i, t) in tokens.enumerated() where index[t] == nil { index[t] = i }
    var all = [(String, String, Double)]()
    for (t, score) in zip(tokens, scores) {
        let scalars = Array(t.unicodeScalars)
        var local = [(String, String, Double)]()
        for cut in scalars.indices.dropFirst() {
            let l = String(String.UnicodeScalarView(scalars[..<cut])), r = String(String.UnicodeScalarView(scalars[cut...]))
            if index[l] != nil && index[r] != nil { local.append((l, r, score)) }
        }
        local.sort { (index[$0.0]!, index[$0.1]!) < (index[$1.0]!, index[$1.1]!) }
        all.append(contentsOf: local)
    }
    let keyed = all.enumerated().map { ($0, $1) }.sorted { a, b in
        let ka = (a.1.2, a.1.0.unicodeScalars.count, a.1.1.unicodeScalars.count)
        let kb = (b.1.2, b.1.0.unicodeScalars.count, b.1.1.unicodeScalars.count)
        return ka != kb ? ka > kb : a.0 < b.0
    }
    return keyed.map { ($0.1.0, $0.1.1) }
}
