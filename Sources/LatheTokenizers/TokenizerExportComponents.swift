import LatheFormats

// Each tokenizer component as the `tokenizer.json` object Hugging Face `tokenizers` writes for it, with the keys
// in HF's order. Every shape here is one the loaders of this module read back into the same component.

/// A JSON object with its members in the given order.
func jsonObject(_ members: KeyValuePairs<String, JSONValue>) -> JSONValue {
    .object(JSONObject(members.map { ($0.key, $0.value) }))
}

/// A JSON string, or null.
func jsonString(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }

extension SplitPattern {
    /// `{"String": …}` or `{"Regex": …}` with the pattern as written in the source file.
    var huggingFaceJSON: JSONValue {
        switch self {
        case .string(let s): return jsonObject(["String": .string(s)])
        case .regex(let r): return jsonObject(["Regex": .string(r.pattern)])
        }
    }
}

extension Normalizer {
    /// The `normalizer` object.
    var huggingFaceJSON: JSONValue {
        switch self {
        case .NFC: return jsonObject(["type": .string("NFC")])
        case .NFD: return jsonObject(["type": .string("NFD")])
        case .NFKC: return jsonObject(["type": .string("NFKC")])
        case .NFKD: return jsonObject(["type": .string("NFKD")])
        case .Lowercase: return jsonObject(["type": .string("Lowercase")])
        case .Prepend(let prefix): return jsonObject(["type": .string("Prepend"), "prepend": .string(prefix)])
        case .Replace(let pattern, let content):
            return jsonObject(["type": .string("Replace"), "pattern": pattern.huggingFaceJSON, "content": .string(content)])
        case .Strip(let left, let right):
            return jsonObject(["type": .string("Strip"), "strip_left": .bool(left), "strip_right": .bool(right)])
        case .Sequence(let list):
            return jsonObject(["type": .string("Sequence"), "normalizers": .array(list.map(\.huggingFaceJSON))])
        }
    }
}

extension PreTokenizer {
    /// The `pre_tokenizer` object (`trim_offsets`, which only moves offsets, is written as HF's default `true`).
    var huggingFaceJSON: JSONValue {
        switch self {
        case .ByteLevel(let addPrefixSpace, let useRegex):
            return jsonObject(["type": .string("ByteLevel"), "add_prefix_space": .bool(addPrefixSpace), "trim_offsets": .bool(true),
                               "use_regex": .bool(useRegex)])
        case .Split(let pattern, let behavior, let invert):
            return jsonObject(["type": .string("Split"), "pattern": pattern.huggingFaceJSON, "behavior": .string(behavior.rawValue),
                               "invert": .bool(invert)])
        case .Digits(let individual):
            return jsonObject(["type": .string("Digits"), "individual_digits": .bool(individual)])
        case .Metaspace(let replacement, let scheme, let split):
            return jsonObject(["type": .string("Metaspace"), "replacement": .string(replacement),
                               "prepend_scheme": .string(scheme.rawValue), "split": .bool(split)])
        case .Punctuation(let behavior):
            return jsonObject(["type": .string("Punctuation"), "behavior": .string(behavior.rawValue)])
        case .Whitespace: return jsonObject(["type": .string("Whitespace")])
        case .WhitespaceSplit: return jsonObject(["type": .string("WhitespaceSplit")])
        case .Sequence(let list):
            return jsonObject(["type": .string("Sequence"), "pretokenizers": .array(list.map(\.huggingFaceJSON))])
        }
    }
}

extension PostProcessor {
    /// The `post_processor` object. A template names its special tokens by their text, looked up with `token`;
    /// `path` locates this processor in errors.
    func huggingFaceJSON(token: (Int32) -> String?, path: String) throws -> JSONValue {
        switch self {
        case .ByteLevel:
            return jsonObject(["type": .string("ByteLevel"), "add_prefix_space": .bool(true), "trim_offsets": .bool(false),
                               "use_regex": .bool(true)])
        case .Sequence(let list):
            let items = try list.enumerated().map { try $1.huggingFaceJSON(token: token, path: "\(path).processors[\($0)]") }
            return jsonObject(["type": .string("Sequence"), "processors": .array(items)])
        case .TemplateProcessing(let single):
            var specials = JSONObject(), names = [String]()
            for (i, piece) in single.enumerated() {
                guard case .special(let ids) = piece else { names.append(""); continue }
                let tokens = try ids.map { id -> String in
                    guard let t = token(id) else {
                        throw TokenizerError.notExportable(file: "tokenizer.json", path: "\(path).single[\(i)]", message:
                            "the template adds id \(id), which has no token to name it by (HF templates name special tokens by " +
                            "text); add the token to the vocabulary or drop it from the post-processor")
                    }
                    return t
                }
                let name = tokens.joined()
                let entry = jsonObject(["id": .string(name), "ids": .array(ids.map { .integer(Int($0)) }),
                                        "tokens": .array(tokens.map(JSONValue.string))])
                if let earlier = specials[name], earlier != entry {
                    throw TokenizerError.notExportable(file: "tokenizer.json", path: "\(path).single[\(i)]", message:
                        "two template entries are both spelled \"\(name)\" but add different ids (HF names them by text); " +
                        "give the special tokens distinct texts")
                }
                specials[name] = entry
                names.append(name)
            }
            func template(_ sequence: String, typeId: Int) -> [JSONValue] {
                zip(single, names).map { piece, name in
                    if case .special = piece {
                        return jsonObject(["SpecialToken": jsonObject(["id": .string(name), "type_id": .integer(typeId)])])
                    }
                    return jsonObject(["Sequence": jsonObject(["id": .string(sequence), "type_id": .integer(typeId)])])
                }
            }
            // Lathe encodes single sequences only; the pair template is the single one for A, then for B.
            return jsonObject(["type": .string("TemplateProcessing"), "single": .array(template("A", typeId: 0)),
                               "pair": .array(template("A", typeId: 0) + template("B", typeId: 1)),
                               "special_tokens": .object(specials)])
        }
    }
}

extension TokenDecoder {
    /// The `decoder` object.
    var huggingFaceJSON: JSONValue {
        switch self {
        case .ByteLevel:
            return jsonObject(["type": .string("ByteLevel"), "add_prefix_space": .bool(true), "trim_offsets": .bool(true),
                               "use_regex": .bool(true)])
        case .ByteFallback: return jsonObject(["type": .string("ByteFallback")])
        case .Fuse: return jsonObject(["type": .string("Fuse")])
        case .Strip(let content, let start, let stop):
            return jsonObject(["type": .string("Strip"), "content": .string(String(Character(content))),
                               "start": .integer(start), "stop": .integer(stop)])
        case .Replace(let pattern, let content):
            return jsonObject(["type": .string("Replace"), "pattern": pattern.huggingFaceJSON, "content": .string(content)])
        case .Metaspace(let replacement, let scheme):
            return jsonObject(["type": .string("Metaspace"), "replacement": .string(String(Character(replacement))),
                               "prepend_scheme": .string(scheme.rawValue), "split": .bool(true)])
        case .Sequence(let list):
            return jsonObject(["type": .string("Sequence"), "decoders": .array(list.map(\.huggingFaceJSON))])
        }
    }
}

extension AddedToken {
    /// One `added_tokens` entry.
    var huggingFaceJSON: JSONValue {
        jsonObject(["id": .integer(Int(id)), "content": .string(content), "single_word": .bool(singleWord),
                    "lstrip": .bool(lstrip), "rstrip": .bool(rstrip), "normalized": .bool(normalized),
                    "special": .bool(special)])
    }
}

extension BPEModel {
    /// The `model` settings before `vocab` and `merges` (dropout is never kept: Lathe refuses BPE dropout).
    var huggingFaceSettings: [(String, JSONValue)] {
        [("type", .string("BPE")), ("dropout", .null), ("unk_token", jsonString(unkId.map { tokens[Int($0)] })),
         ("continuing_subword_prefix", jsonString(prefixText)), ("end_of_word_suffix", jsonString(suffixText)),
         ("fuse_unk", .bool(fuseUnk)), ("byte_fallback", .bool(byteFallback)), ("ignore_merges", .bool(ignoreMerges))]
    }

    /// `vocab` in id order: each token under the id a lookup of its text gives (so a text listed twice keeps one id,
    /// as in HF's vocabulary map); ids holding no token are left out.
    var huggingFaceVocab: [(String, Int)] {
        tokens.enumerated().compactMap { id, token in
            guard !token.isEmpty, byToken.get(Array(token.utf8)) == Int64(id) else { return nil }
            return (token, id)
        }
    }

    /// The merges as (left, right) token texts in rank order; merges shadowed by an earlier one for the same pair
    /// are left out, which keeps every pair's relative rank and so the same encoding.
    var huggingFaceMerges: [(String, String)] {
        merges.entries.sorted { $0.value >> 32 < $1.value >> 32 }.map { (tokens[Int($0.left)], tokens[Int($0.right)]) }
    }
}
