import Foundation
import LatheFormats

/// The token tables of a PEFT adapter (`TokenRows`): tensors and `adapter_config.json` keys as PEFT 0.21.2 writes
/// them, and `added_tokens.json` ({token: id}, transformers' file for tokens added to a vocabulary) naming the new
/// tokens, so the adapter directory alone rebuilds the tokenizer it was trained with.
extension PEFTAdapter {
    /// The name of the file listing the added tokens.
    public static let addedTokensFile = "added_tokens.json"

    /// Adds the token tables: `…embed_tokens.token_adapter.trainable_tokens_delta` and the LM head's (with tied
    /// embeddings the same values, as PEFT saves its tied adapter), or `…modules_to_save.weight` for whole matrices.
    static func addTokenTables(_ adapter: LoRAAdapter, to writer: inout SafetensorsWriter) throws {
        guard let tokens = adapter.tokens else { return }
        let count = tokens.rowCount * tokens.hidden
        for (name, offset) in tokens.peftTensors {
            try writer.add(name, shape: [tokens.rowCount, tokens.hidden],
                           values: Array(adapter.parameters[offset..<(offset + count)]), as: .f32)
        }
    }

    /// `trainable_token_indices` (a list with tied embeddings, else {embed_tokens, lm_head}) or `modules_to_save`.
    static func addTokenSettings(_ adapter: LoRAAdapter, to config: inout [String: Any]) {
        guard let tokens = adapter.tokens else { return }
        if tokens.wholeMatrices {
            config["modules_to_save"] = ["embed_tokens", "lm_head"]
        } else {
            config["trainable_token_indices"] = tokens.tied ? tokens.indices as Any
                : ["embed_tokens": tokens.indices, "lm_head": tokens.indices] as Any
        }
    }

    /// Writes `added_tokens.json` when the adapter adds tokens (removes a stale one otherwise).
    static func writeAddedTokens(_ adapter: LoRAAdapter, to directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(addedTokensFile)
        guard let tokens = adapter.tokens, !tokens.newTokens.isEmpty else {
            try? FileManager.default.removeItem(atPath: path)
            return
        }
        let object = JSONObject(tokens.newTokens.enumerated().map { ($0.element, JSONValue.integer(tokens.baseVocab + $0.offset)) })
        try Data((JSONValue.object(object).serialized() + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The token tables of the adapter in `directory` and their values, or nil when it trains no token rows.
    static func readTokenTables(_ directory: String, config json: JSONNode, file: SafetensorsFile, model: ModelConfig,
                                offset: Int) throws -> (TokenRows, [Float])? {
        let configPath = (directory as NSString).appendingPathComponent("adapter_config.json")
        func invalid(_ key: String, _ message: String) -> ModelError {
            ModelError.invalidConfig(file: configPath, key: key, message: message)
        }
        let indicesNode = try ConfigLookup.optional(json, "trainable_token_indices", configPath)
        let modulesNode = try ConfigLookup.optional(json, "modules_to_save", configPath)
        guard indicesNode != nil || modulesNode != nil else { return nil }
        let newTokens = try addedTokens(directory, baseVocab: model.vocabSize)
        let whole: Bool
        if let modulesNode {
            guard indicesNode == nil else { throw invalid("modules_to_save", "give trainable_token_indices or modules_to_save, not both") }
            let modules = Set(try ConfigLookup.strings(modulesNode, configPath))
            guard modules == ["embed_tokens", "lm_head"] || (model.tieWordEmbeddings && modules == ["embed_tokens"]) else {
                throw invalid("modules_to_save", "Lathe trains only the embedding and LM head as whole modules ([embed_tokens, lm_head]); "
                              + "got \(modules.sorted())")
            }
            whole = true
        } else {
            let expected = Array(model.vocabSize..<(model.vocabSize + newTokens.count))
            let lists: [[Int]]
            do {
                if let members = try? indicesNode!.members() {
                    lists = try members.map { member in
                        guard ["embed_tokens", "lm_head"].contains(member.key) else { throw member.node.fail("unknown module \(member.key)") }
                        return try member.node.array().map { try $0.int() }
                    }
                } else {
                    lists = [try indicesNode!.array().map { try $0.int() }]
                }
            } catch let error as JSONFileError {
                throw ModelError.invalidConfig(file: configPath, key: String(error.path.dropFirst(2)), message: error.message)
            }
            guard !expected.isEmpty, lists.allSatisfy({ $0 == expected }) else {
                throw invalid("trainable_token_indices", "Lathe trains the rows of the tokens it adds: ids \(model.vocabSize)..<"
                              + "\(model.vocabSize + newTokens.count), the tokens of \(addedTokensFile) (got \(lists))")
            }
            whole = false
        }
        let tokens = TokenRows(newTokens: newTokens, baseVocab: model.vocabSize, hidden: model.hiddenSize, wholeMatrices: whole,
                               tied: model.tieWordEmbeddings, offset: offset)
        let weightsPath = (directory as NSString).appendingPathComponent("adapter_model.safetensors")
        var values: [Float] = []
        for (name, _) in tokens.peftTensors.prefix(tokens.tied ? 1 : 2) {
            guard file.contains(name) else { throw ModelError.missingTensor(file: weightsPath, name: name) }
            let shape = [tokens.rowCount, tokens.hidden], found = try file.shape(of: name)
            guard found == shape else { throw ModelError.shapeMismatch(file: weightsPath, name: name, expected: shape, found: found) }
            values += try file.floats(name)
        }
        return (tokens, values)
    }

    /// The tokens of `added_tokens.json` in id order; their ids must run on from `baseVocab` (none: no file).
    static func addedTokens(_ directory: String, baseVocab: Int) throws -> [String] {
        let path = (directory as NSString).appendingPathComponent(addedTokensFile)
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            let members = try JSONNode.read(file: path, maxBytes: 16 << 20).members()
            var byId: [Int: String] = [:]
            for (token, node) in members { byId[try node.int()] = token }
            let ids = byId.keys.sorted()
            guard ids == Array(baseVocab..<(baseVocab + ids.count)) else {
                throw ModelError.invalidConfig(file: path, key: "(file)", message:
                    "the added tokens' ids must run on from the model's vocabulary size \(baseVocab) (got \(ids))")
            }
            return ids.map { byId[$0]! }
        } catch let error as JSONFileError {
            throw ModelError.invalidConfig(file: path, key: error.path == "$" ? "(file)" : String(error.path.dropFirst(2)), message: error.message)
        }
    }
}

/// JSON look-ups that report their failure as a `ModelError` naming the config file.
private enum ConfigLookup {
    static func optional(_ json: JSONNode, _ key: String, _ file: String) throws -> JSONNode? {
        do { return try json.optional(key) } catch { throw ModelError.invalidConfig(file: file, key: key, message: error.message) }
    }

    static func strings(_ node: JSONNode, _ file: String) throws -> [String] {
        do { return try node.strings() } catch { throw ModelError.invalidConfig(file: file, key: "modules_to_save", message: error.message) }
    }
}
