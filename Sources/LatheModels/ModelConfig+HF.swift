import Foundation
import LatheFormats
import LatheTensors

/// The fields of a Hugging Face `config.json` that Lathe reads, under their HF keys.
/// Both the transformers 4 layout (`rope_theta`, `rope_scaling`) and the 5 layout (`rope_parameters`) decode.
private struct HFConfig: Decodable {
    struct RopeParameters: Decodable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Double?
        var factor: Double?
        var lowFreqFactor: Double?
        var highFreqFactor: Double?
        var originalMaxPositionEmbeddings: Int?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor
            case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        }
    }

    /// `eos_token_id` is an integer or a list of integers.
    enum TokenIds: Decodable {
        case one(Int), many([Int])
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let id = try? container.decode(Int.self) { self = .one(id) } else { self = .many(try container.decode([Int].self)) }
        }
        var ids: [Int] { switch self { case .one(let id): [id]; case .many(let ids): ids } }
    }

    var architectures: [String]?
    var modelType: String?
    var hiddenSize: Int
    var intermediateSize: Int
    var numHiddenLayers: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    var vocabSize: Int
    var rmsNormEps: Double?
    var ropeTheta: Double?
    var ropeScaling: RopeParameters?
    var ropeParameters: RopeParameters?
    var tieWordEmbeddings: Bool?
    var attentionBias: Bool?
    var mlpBias: Bool?
    var hiddenAct: String?
    var maxPositionEmbeddings: Int?
    var bosTokenId: Int?
    var eosTokenId: TokenIds?

    enum CodingKeys: String, CodingKey {
        case architectures, modelType = "model_type", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim", vocabSize = "vocab_size", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
        case tieWordEmbeddings = "tie_word_embeddings", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act", maxPositionEmbeddings = "max_position_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
    }
}

extension ModelConfig {
    /// Reads an HF `config.json`. Unknown architectures, unsupported options and inconsistent sizes throw
    /// `ModelError` naming the file and key.
    public init(configJSON path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ModelError.notAModel(path: path, message: "cannot read config.json")
        }
        let hf: HFConfig
        do {
            hf = try JSONNode.read(file: path, maxBytes: 16 << 20).decode(HFConfig.self)
        } catch let error as DecodingError {
            throw ModelError.invalidConfig(file: path, key: Self.keyPath(of: error), message: Self.reason(of: error))
        } catch let error as JSONFileError {
            throw ModelError.invalidConfig(file: path, key: "(file)", message: error.message)
        } catch {
            throw ModelError.notAModel(path: path, message: "cannot read config.json: \(error)")
        }
        try self.init(hf, file: path)
    }

    private init(_ hf: HFConfig, file: String) throws {
        let name = hf.architectures?.first ?? hf.modelType ?? "(none)"
        let architecture: Architecture
        switch name {
        case "LlamaForCausalLM", "llama": architecture = .llama
        case "MistralForCausalLM", "mistral": architecture = .mistral
        case "Qwen2ForCausalLM", "qwen2": architecture = .qwen2
        default: throw ModelError.unsupportedArchitecture(file: file, name: name)
        }
        if let act = hf.hiddenAct, act != "silu" {
            throw ModelError.invalidConfig(file: file, key: "hidden_act", message: "\"\(act)\" is not supported; Lathe implements silu (SwiGLU)")
        }
        if hf.mlpBias == true {
            throw ModelError.invalidConfig(file: file, key: "mlp_bias", message: "MLP biases are not supported")
        }
        let rope = hf.ropeParameters ?? hf.ropeScaling
        let ropeType = rope?.ropeType ?? rope?.type ?? "default"
        var scaling: Llama3RopeScaling?
        switch ropeType {
        case "default": scaling = nil
        case "llama3":
            guard let factor = rope?.factor, let low = rope?.lowFreqFactor, let high = rope?.highFreqFactor,
                  let original = rope?.originalMaxPositionEmbeddings else {
                throw ModelError.invalidConfig(file: file, key: "rope_scaling", message:
                    "llama3 scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings")
            }
            scaling = Llama3RopeScaling(factor: factor, lowFreqFactor: low, highFreqFactor: high,
                                        originalMaxPositionEmbeddings: original)
        default:
            throw ModelError.invalidConfig(file: file, key: "rope_scaling", message:
                "rope_type \"\(ropeType)\" is not supported; Lathe implements default and llama3")
        }
        self.init(architecture: architecture, hiddenSize: hf.hiddenSize, intermediateSize: hf.intermediateSize,
                  layerCount: hf.numHiddenLayers, headCount: hf.numAttentionHeads,
                  keyValueHeadCount: hf.numKeyValueHeads ?? hf.numAttentionHeads, headDim: hf.headDim,
                  vocabSize: hf.vocabSize, rmsNormEps: hf.rmsNormEps ?? 1e-6,
                  ropeTheta: rope?.ropeTheta ?? hf.ropeTheta ?? 10000, ropeScaling: scaling,
                  tieWordEmbeddings: hf.tieWordEmbeddings ?? false,
                  attentionBias: architecture == .qwen2 ? true : (hf.attentionBias ?? false),
                  maxPositionEmbeddings: hf.maxPositionEmbeddings ?? 2048,
                  bosTokenId: hf.bosTokenId, eosTokenIds: hf.eosTokenId?.ids ?? [])
        try validate(file: file)
    }

    private static func keyPath(of error: DecodingError) -> String {
        let path: [CodingKey]
        switch error {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        @unknown default: path = []
        }
        return path.isEmpty ? "(file)" : path.map(\.stringValue).joined(separator: ".")
    }

    private static func reason(of error: DecodingError) -> String {
        switch error {
        case .keyNotFound: return "required key is missing"
        case .typeMismatch(let type, _): return "has the wrong type (expected \(type))"
        case .valueNotFound(let type, _): return "is null (expected \(type))"
        case .dataCorrupted(let context): return "not valid JSON: \(context.debugDescription)"
        @unknown default: return "cannot be decoded"
        }
    }
}
