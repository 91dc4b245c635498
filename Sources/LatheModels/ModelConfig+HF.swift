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
        var shortFactor: [Double]?
        var longFactor: [Double]?
        var attentionFactor: Double?
        var partialRotaryFactor: Double?
        /// transformers 5 nests per-layer-type parameters (Gemma 3): `{"full_attention": {…}, "sliding_attention": {…}}`.
        var fullAttention: Nested?
        var slidingAttention: Nested?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type", type, ropeTheta = "rope_theta", factor
            case lowFreqFactor = "low_freq_factor", highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
            case fullAttention = "full_attention", slidingAttention = "sliding_attention"
            case shortFactor = "short_factor", longFactor = "long_factor", attentionFactor = "attention_factor"
            case partialRotaryFactor = "partial_rotary_factor"
        }

        /// A box, so the parameters can nest.
        final class Nested: Decodable {
            let value: RopeParameters
            required init(from decoder: Decoder) throws { value = try RopeParameters(from: decoder) }
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
    var padTokenId: Int?
    var eosTokenId: TokenIds?
    var slidingWindow: Int?
    var useSlidingWindow: Bool?
    var layerTypes: [String]?
    var maxWindowLayers: Int?
    var slidingWindowPattern: Int?
    var hiddenActivation: String?
    var queryPreAttnScalar: Double?
    var ropeLocalBaseFreq: Double?
    var finalLogitSoftcapping: Double?
    var attnLogitSoftcapping: Double?
    var originalMaxPositionEmbeddings: Int?
    var partialRotaryFactor: Double?

    enum CodingKeys: String, CodingKey {
        case architectures, modelType = "model_type", hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim", vocabSize = "vocab_size", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", ropeScaling = "rope_scaling", ropeParameters = "rope_parameters"
        case tieWordEmbeddings = "tie_word_embeddings", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case hiddenAct = "hidden_act", maxPositionEmbeddings = "max_position_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case slidingWindow = "sliding_window", useSlidingWindow = "use_sliding_window", layerTypes = "layer_types"
        case maxWindowLayers = "max_window_layers", slidingWindowPattern = "sliding_window_pattern"
        case hiddenActivation = "hidden_activation", queryPreAttnScalar = "query_pre_attn_scalar"
        case ropeLocalBaseFreq = "rope_local_base_freq", finalLogitSoftcapping = "final_logit_softcapping"
        case attnLogitSoftcapping = "attn_logit_softcapping"
        case originalMaxPositionEmbeddings = "original_max_position_embeddings", partialRotaryFactor = "partial_rotary_factor"
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
        case "Qwen3ForCausalLM", "qwen3": architecture = .qwen3
        case "Gemma3ForCausalLM", "gemma3_text": architecture = .gemma3
        case "Phi3ForCausalLM", "phi3": architecture = .phi3
        default: throw ModelError.unsupportedArchitecture(file: file, name: name)
        }
        let expected: Activation = architecture == .gemma3 ? .geluTanh : .silu
        for (key, act) in [("hidden_act", hf.hiddenAct), ("hidden_activation", hf.hiddenActivation)] {
            if let act, act != expected.rawValue {
                throw ModelError.invalidConfig(file: file, key: key, message:
                    "\"\(act)\" is not supported for \(architecture.rawValue); Lathe implements \(expected.rawValue)")
            }
        }
        if hf.attnLogitSoftcapping != nil {
            throw ModelError.invalidConfig(file: file, key: "attn_logit_softcapping", message:
                "soft-capping of attention scores (Gemma 2) is not supported; Gemma 3 sets it to null")
        }
        if hf.mlpBias == true {
            throw ModelError.invalidConfig(file: file, key: "mlp_bias", message: "MLP biases are not supported")
        }
        let rope = hf.ropeParameters?.fullAttention?.value ?? hf.ropeParameters ?? hf.ropeScaling
        let ropeType = rope?.ropeType ?? rope?.type ?? "default"
        var scaling: Llama3RopeScaling?
        var longRope: LongRopeScaling?
        switch ropeType {
        case "default": scaling = nil
        case "longrope":
            guard let short = rope?.shortFactor, let long = rope?.longFactor,
                  let original = rope?.originalMaxPositionEmbeddings ?? hf.originalMaxPositionEmbeddings else {
                throw ModelError.invalidConfig(file: file, key: "rope_scaling", message:
                    "longrope scaling needs short_factor, long_factor and original_max_position_embeddings")
            }
            longRope = LongRopeScaling(shortFactor: short, longFactor: long, originalMaxPositionEmbeddings: original,
                                       maxPositionEmbeddings: hf.maxPositionEmbeddings ?? original,
                                       attentionFactor: rope?.attentionFactor)
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
                "rope_type \"\(ropeType)\" is not supported; Lathe implements default, llama3 and longrope")
        }
        let (window, slidingLayers) = try Self.slidingWindow(hf, architecture, file: file)
        self.init(architecture: architecture, hiddenSize: hf.hiddenSize, intermediateSize: hf.intermediateSize,
                  layerCount: hf.numHiddenLayers, headCount: hf.numAttentionHeads,
                  keyValueHeadCount: hf.numKeyValueHeads ?? hf.numAttentionHeads, headDim: hf.headDim,
                  vocabSize: hf.vocabSize, rmsNormEps: hf.rmsNormEps ?? 1e-6,
                  ropeTheta: rope?.ropeTheta ?? hf.ropeTheta ?? 10000, ropeScaling: scaling,
                  tieWordEmbeddings: hf.tieWordEmbeddings ?? (architecture == .gemma3),
                  attentionBias: architecture == .qwen2 ? true : (hf.attentionBias ?? false),
                  slidingWindow: window, slidingLayers: slidingLayers,
                  queryPreAttentionScalar: architecture == .gemma3 ? hf.queryPreAttnScalar ?? 256 : nil,
                  localRopeTheta: architecture == .gemma3
                      ? hf.ropeParameters?.slidingAttention?.value.ropeTheta ?? hf.ropeLocalBaseFreq ?? 10000 : nil,
                  finalLogitSoftcap: hf.finalLogitSoftcapping,
                  partialRotaryFactor: rope?.partialRotaryFactor ?? hf.partialRotaryFactor ?? 1, longRope: longRope,
                  maxPositionEmbeddings: hf.maxPositionEmbeddings ?? 2048,
                  bosTokenId: hf.bosTokenId, eosTokenIds: hf.eosTokenId?.ids ?? [])
        padTokenId = hf.padTokenId
        try validate(file: file)
    }

    /// The window and the layers it applies to, as transformers decides them: Mistral windows every layer when
    /// `sliding_window` is set; Qwen2/Qwen3 only with `use_sliding_window`, on the layers `layer_types` names
    /// "sliding_attention" (or, without it, layers from `max_window_layers` on); Gemma 3 interleaves local and
    /// global layers (`layer_types`, or `sliding_window_pattern`).
    private static func slidingWindow(_ hf: HFConfig, _ architecture: Architecture, file: String) throws -> (Int?, [Bool]?) {
        let layers = hf.layerTypes.map { $0.map { $0 == "sliding_attention" } }
        switch architecture {
        case .llama:
            return (nil, nil)
        case .mistral, .phi3:
            return (hf.slidingWindow, nil)   // Mistral and Phi-3 window every layer and ignore layer_types
        case .gemma3:
            // Gemma3TextConfig: every `sliding_window_pattern`-th layer (default 6) is global, the others local.
            let pattern = hf.slidingWindowPattern ?? 6
            if let layers { return (hf.slidingWindow, layers) }
            guard pattern > 0 else {
                throw ModelError.invalidConfig(file: file, key: "sliding_window_pattern", message: "must be positive (got \(pattern))")
            }
            return (hf.slidingWindow, layerIndices(hf.numHiddenLayers).map { ($0 + 1) % pattern != 0 })
        case .qwen2, .qwen3:
            guard hf.useSlidingWindow == true, let window = hf.slidingWindow else { return (nil, nil) }
            let from = hf.maxWindowLayers ?? hf.numHiddenLayers
            return (window, layers ?? layerIndices(hf.numHiddenLayers).map { $0 >= from })
        }
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
