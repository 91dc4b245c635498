import Foundation
import LatheTensors

/// The hyper-parameters of a decoder architecture, decoded from an HF `config.json` (keys via `CodingKeys`)
/// or mapped from GGUF `llama.*` / `qwen2.*` / `qwen3.*` metadata. What differs between architectures is a field
/// here (q/k bias, q/k norm, sliding window, RoPE scaling, tied embeddings), read by the one `DecoderLayer`.
public struct ModelConfig: Sendable, Equatable {
    /// Architectures Lathe implements, as HF names them in `config.json` `architectures`.
    public enum Architecture: String, Sendable, CaseIterable {
        case llama = "LlamaForCausalLM"
        case mistral = "MistralForCausalLM"
        case qwen2 = "Qwen2ForCausalLM"
        case qwen3 = "Qwen3ForCausalLM"
        case gemma3 = "Gemma3ForCausalLM"
        case phi3 = "Phi3ForCausalLM"
    }

    /// The MLP's gated activation: `hidden_act` (Gemma: `hidden_activation`) as transformers names it.
    public enum Activation: String, Sendable {
        /// silu(gate) · up (Llama, Mistral, Qwen).
        case silu
        /// gelu_tanh(gate) · up (Gemma).
        case geluTanh = "gelu_pytorch_tanh"
    }

    public var architecture: Architecture
    /// C: model width.
    public var hiddenSize: Int
    /// F: MLP width.
    public var intermediateSize: Int
    /// L: decoder layers.
    public var layerCount: Int
    /// H: attention heads.
    public var headCount: Int
    /// KVH: key-value heads (GQA); equals H without GQA.
    public var keyValueHeadCount: Int
    /// D: head dimension; `hiddenSize / headCount` unless the config says otherwise.
    public var headDim: Int
    /// V: vocabulary size.
    public var vocabSize: Int
    public var rmsNormEps: Double
    /// RoPE base θ.
    public var ropeTheta: Double
    /// `rope_scaling` with `rope_type: llama3` (Llama 3.1+); nil for plain RoPE.
    public var ropeScaling: Llama3RopeScaling?
    /// The LM head reuses the token embedding matrix.
    public var tieWordEmbeddings: Bool
    /// Qwen2 has biases on q, k and v projections.
    public var attentionBias: Bool
    /// Qwen3: RMSNorm over each head of q and k, before RoPE (`self_attn.q_norm` / `k_norm`, (D) weights).
    public var qkNorm: Bool
    /// Sliding-window attention (Mistral): a query sees keys at most `slidingWindow − 1` positions back.
    public var slidingWindow: Int?
    /// Which layers use the window (HF `layer_types` "sliding_attention"); nil: every layer, when a window is set.
    public var slidingLayers: [Bool]?
    public var activation: Activation
    /// Gemma: RMSNorm weights are stored as w and applied as (1 + w). The HF loader folds the 1 into the weight
    /// (llama.cpp's converter already did, in GGUF files) and the HF export takes it out again.
    public var normAddsOne: Bool
    /// Gemma: an RMSNorm on the attention output and one on the MLP output, before each residual add.
    public var sandwichNorms: Bool
    /// Gemma: the attention scores are scaled by `query_pre_attn_scalar`^(−1/2) instead of 1/√D.
    public var queryPreAttentionScalar: Double?
    /// Gemma: the token embeddings are multiplied by √C (in fp32, as transformers' `embed_scale` buffer).
    public var embeddingScale: Float?
    /// RoPE base of the sliding-window layers, when it differs from `ropeTheta` (Gemma 3: `rope_local_base_freq`).
    public var localRopeTheta: Double?
    /// Phi-3: q, k, v in one `qkv_proj` weight (rows q, then k, then v) and gate, up in one `gate_up_proj`.
    public var fusedProjections: Bool
    /// Fraction of each head that RoPE rotates (`partial_rotary_factor`); 1: all of it.
    public var partialRotaryFactor: Double
    /// LongRoPE scaling (Phi-3 `rope_type: longrope`); nil otherwise.
    public var longRope: LongRopeScaling?
    /// Gemma: logits are soft-capped, cap · tanh(logits / cap) (`final_logit_softcapping`); nil: not capped.
    public var finalLogitSoftcap: Double?
    public var maxPositionEmbeddings: Int
    public var bosTokenId: Int?
    /// `pad_token_id` (GGUF `tokenizer.ggml.padding_token_id`), written back on HF export: transformers' Phi-3
    /// config otherwise assumes 32000, outside smaller vocabularies.
    public var padTokenId: Int?
    /// Generation stops at any of these.
    public var eosTokenIds: [Int]

    public init(architecture: Architecture, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
                headCount: Int, keyValueHeadCount: Int, headDim: Int? = nil, vocabSize: Int,
                rmsNormEps: Double = 1e-5, ropeTheta: Double = 10000, ropeScaling: Llama3RopeScaling? = nil,
                tieWordEmbeddings: Bool = false, attentionBias: Bool? = nil, qkNorm: Bool? = nil,
                slidingWindow: Int? = nil, slidingLayers: [Bool]? = nil, queryPreAttentionScalar: Double? = nil,
                localRopeTheta: Double? = nil, finalLogitSoftcap: Double? = nil, partialRotaryFactor: Double = 1,
                longRope: LongRopeScaling? = nil, maxPositionEmbeddings: Int = 2048,
                bosTokenId: Int? = nil, eosTokenIds: [Int] = []) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.headDim = headDim ?? (headCount > 0 ? hiddenSize / headCount : 0)
        self.vocabSize = vocabSize
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias ?? (architecture == .qwen2)
        self.qkNorm = qkNorm ?? (architecture == .qwen3 || architecture == .gemma3)
        self.slidingWindow = slidingWindow
        self.slidingLayers = slidingLayers
        let gemma = architecture == .gemma3
        self.activation = gemma ? .geluTanh : .silu
        self.normAddsOne = gemma
        self.sandwichNorms = gemma
        self.queryPreAttentionScalar = queryPreAttentionScalar
        self.embeddingScale = gemma ? Float(Double(hiddenSize).squareRoot()) : nil
        self.localRopeTheta = localRopeTheta
        self.finalLogitSoftcap = finalLogitSoftcap
        self.fusedProjections = architecture == .phi3
        self.partialRotaryFactor = partialRotaryFactor
        self.longRope = longRope
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
    }
}

extension ModelConfig {
    /// Total parameters of the base model (embeddings counted once when tied).
    public var parameterCount: Int {
        let (c, f, h, kvh, d) = (hiddenSize, intermediateSize, headCount, keyValueHeadCount, headDim)
        let attention = c * h * d * 2 + c * kvh * d * 2 + (attentionBias ? h * d + 2 * kvh * d : 0)
        let layer = attention + 3 * c * f + (sandwichNorms ? 4 : 2) * c + (qkNorm ? 2 * d : 0)
        return vocabSize * c * (tieWordEmbeddings ? 1 : 2) + layerCount * layer + c
    }

    /// Checks the dimensions hang together; `file` names where they came from.
    func validate(file: String) throws {
        func require(_ ok: Bool, _ key: String, _ message: String) throws {
            if !ok { throw ModelError.invalidConfig(file: file, key: key, message: message) }
        }
        for (key, value) in [("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                             ("num_hidden_layers", layerCount), ("num_attention_heads", headCount),
                             ("num_key_value_heads", keyValueHeadCount), ("head_dim", headDim), ("vocab_size", vocabSize)] {
            try require(value > 0 && value <= 1 << 24, key, "must be a positive integer below 2^24 (got \(value))")
        }
        try require(layerCount <= Self.maxLayers, "num_hidden_layers",
                    "\(layerCount) layers is over Lathe's limit of \(Self.maxLayers) (ModelConfig.maxLayers; released models have at most 126)")
        try require(parameterEstimate <= Self.maxParameters, "hidden_size",
                    "the sizes describe about \(Int((parameterEstimate / 1e9).rounded())) billion parameters, over Lathe's limit of 2^40 "
                        + "(ModelConfig.maxParameters, which keeps every weight offset in range); check the sizes")
        try require(headCount % keyValueHeadCount == 0, "num_key_value_heads",
                    "\(keyValueHeadCount) does not divide num_attention_heads \(headCount)")
        try require(headDim % 2 == 0, "head_dim", "RoPE needs an even head dimension (got \(headDim))")
        try require(rmsNormEps > 0 && rmsNormEps < 1, "rms_norm_eps", "must be in (0, 1) (got \(rmsNormEps))")
        try require(ropeTheta > 1, "rope_theta", "must be greater than 1 (got \(ropeTheta))")
        try require(maxPositionEmbeddings > 0, "max_position_embeddings", "must be positive")
        try require(partialRotaryFactor > 0 && partialRotaryFactor <= 1, "partial_rotary_factor",
                    "must be in (0, 1] (got \(partialRotaryFactor))")
        try require(rotaryDim > 0 && rotaryDim % 2 == 0 && rotaryDim <= headDim, "partial_rotary_factor",
                    "gives a rotary dimension of \(rotaryDim) for head_dim \(headDim); it must be even and in 2...head_dim")
        if let longRope {
            for (key, factors) in [("short_factor", longRope.shortFactor), ("long_factor", longRope.longFactor)] {
                try require(factors.count == rotaryDim / 2 && factors.allSatisfy { $0.isFinite && $0 > 0 }, key,
                            "needs \(rotaryDim / 2) positive factors (got \(factors.count))")
            }
            try require(longRope.originalMaxPositionEmbeddings > 0, "original_max_position_embeddings", "must be positive")
        }
        try require((finalLogitSoftcap ?? 1) > 0, "final_logit_softcapping", "must be positive (got \(finalLogitSoftcap ?? 0))")
        try require((slidingWindow ?? 1) > 0, "sliding_window", "must be positive (got \(slidingWindow ?? 0))")
        try require(slidingLayers == nil || slidingLayers!.count == layerCount, "layer_types",
                    "has \(slidingLayers?.count ?? 0) entries for \(layerCount) layers")
    }

    /// The rotated prefix of each head: `head_dim · partial_rotary_factor` (transformers truncates).
    public var rotaryDim: Int {
        let dim = Double(headDim) * partialRotaryFactor + 1e-9  // (the epsilon absorbs R/D·D rounding)
        return dim.isFinite && abs(dim) < 0x1p40 ? Int(dim) : 0  // 0 for a factor `validate` refuses
    }

    /// A bound no real model nears (Llama 3.1 405B has 126 layers), so per-layer tables stay small.
    public static let maxLayers = 4096
    /// 2^40 weights (4 TiB in fp32): any model Lathe can hold, with every weight offset far from `Int.max`.
    public static let maxParameters = 0x1p40

    /// The weights the sizes describe, in Double so no product overflows: embeddings (and an untied head), each
    /// layer's attention and MLP matrices; norms and biases are a rounding error beside them.
    var parameterEstimate: Double {
        let (c, f, d) = (Double(hiddenSize), Double(intermediateSize), Double(headDim))
        let attention = c * d * Double(2 * headCount + 2 * keyValueHeadCount)
        let perLayer = attention + 3 * c * f + 8 * c
        return Double(vocabSize) * c * (tieWordEmbeddings ? 1 : 2) + Double(layerCount) * perLayer
    }

    /// The layers 0..<count, or none for a count `validate` refuses (not positive, or past `maxLayers`), so
    /// per-layer lists built from a file before validation neither trap nor allocate past what a valid model has.
    static func layerIndices(_ count: Int) -> Range<Int> { 0..<(count > 0 && count <= maxLayers ? count : 0) }

    /// Softmax scale of the attention scores; nil means 1/√D.
    var attentionScale: Float? { queryPreAttentionScalar.map { Float(1 / $0.squareRoot()) } }

    /// The names llama.cpp gives the architecture (`general.architecture`).
    public var ggufArchitecture: String {
        switch architecture {
        case .llama, .mistral: "llama"
        case .qwen2: "qwen2"
        case .qwen3: "qwen3"
        case .gemma3: "gemma3"
        case .phi3: "phi3"
        }
    }

    /// convert_hf_to_gguf.py permutes the rows of q and k (and of LoRA B for them) only for the llama architecture.
    var ggufPermutesRotaryRows: Bool { ggufArchitecture == "llama" }

    /// The attention window of `layer`: nil for full causal attention.
    func attentionWindow(layer: Int) -> Int? {
        guard let slidingWindow, slidingLayers?[layer] ?? true else { return nil }
        return slidingWindow
    }
}

extension RopeFrequencies {
    /// The frequencies `config.json` describes: `rope_theta`, with llama3 scaling when configured.
    /// With LongRoPE, these are the short-context frequencies (`long` gives the others).
    public init(config: ModelConfig, long: Bool = false) {
        if let longRope = config.longRope {
            self.init(headDim: config.headDim, rotaryDim: config.rotaryDim, theta: config.ropeTheta, longRope: longRope, long: long)
        } else if config.rotaryDim != config.headDim {
            let r = config.rotaryDim
            self.init(headDim: config.headDim, rotaryDim: r,
                      inverseFrequencies: (0..<(r / 2)).map { 1 / powf(Float(config.ropeTheta), Float(2 * $0) / Float(r)) })
        } else {
            self.init(headDim: config.headDim, theta: config.ropeTheta, llama3: config.ropeScaling)
        }
    }
}
