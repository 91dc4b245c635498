import Foundation
import LatheFormats

/// What `tokenizer_config.json` (and GGUF metadata) says around the tokenizer: special tokens, whether to add
/// BOS/EOS, and the chat template text (rendered elsewhere).
public struct TokenizerConfig: Sendable, Equatable {
    /// `bos_token`.
    public var bosToken: String?
    /// `eos_token`.
    public var eosToken: String?
    /// `unk_token`.
    public var unkToken: String?
    /// `pad_token`.
    public var padToken: String?
    /// `add_bos_token` (nil when the file does not say).
    public var addBosToken: Bool?
    /// `add_eos_token` (nil when the file does not say).
    public var addEosToken: Bool?
    /// Named chat templates; a single template is named "default".
    public var chatTemplates: [String: String]

    /// A configuration with the given fields.
    public init(bosToken: String? = nil, eosToken: String? = nil, unkToken: String? = nil, padToken: String? = nil,
                addBosToken: Bool? = nil, addEosToken: Bool? = nil, chatTemplates: [String: String] = [:]) {
        self.bosToken = bosToken; self.eosToken = eosToken; self.unkToken = unkToken; self.padToken = padToken
        self.addBosToken = addBosToken; self.addEosToken = addEosToken; self.chatTemplates = chatTemplates
    }

    /// The default chat template, if any.
    public var chatTemplate: String? { chatTemplates["default"] }

    /// Reads `tokenizer_config.json`.
    public static func load(_ url: URL) throws -> TokenizerConfig {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.malformed(file: url.path, path: "$", message: "cannot read the file (\(error.localizedDescription))")
        }
        return try TokenizerError.reading { try parse(JSONNode.parse(data, file: url.path)) }
    }

    static func parse(_ root: JSONNode) throws -> TokenizerConfig {
        func token(_ key: String) throws -> String? {
            guard let node = try root.optional(key) else { return nil }
            if let s = node.stringValue { return s }
            return try node.required("content").string()  // a serialized AddedToken
        }
        var config = TokenizerConfig(bosToken: try token("bos_token"), eosToken: try token("eos_token"),
                                     unkToken: try token("unk_token"), padToken: try token("pad_token"),
                                     addBosToken: try root.optionalBool("add_bos_token"),
                                     addEosToken: try root.optionalBool("add_eos_token"))
        if let template = try root.optional("chat_template") {
            if let s = template.stringValue {
                config.chatTemplates["default"] = s
            } else {
                for entry in try template.array() {
                    config.chatTemplates[try entry.required("name").string()] = try entry.required("template").string()
                }
            }
        }
        return config
    }
}
