import Foundation

/// The Llama-family hyper-parameters Lathe needs, decoded from an HF `config.json` (keys via `CodingKeys`)
/// or mapped from GGUF `llama.*` / `qwen2.*` metadata.
public struct ModelConfig: Sendable, Equatable, Codable {
    /// Architectures Lathe implements, as HF names them in `config.json` `architectures`.
    public enum Architecture: String, Sendable, Codable, CaseIterable {
        case llama = "LlamaForCausalLM"
        case mistral = "MistralForCausalLM"
        case qwen2 = "Qwen2ForCausalLM"
    }

    /// `rope_scaling` with `rope_type: llama3` (Llama 3.1+): frequencies are rescaled by wavelength band.
    public struct Llama3RopeScaling: Sendable, Equatable, Codable {
        public var factor: Double
        public var lowFreqFactor: Double
        public var highFreqFactor: Double
        public var originalMaxPositionEmbeddings: Int

        public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int) {
            self.factor = factor
            self.lowFreqFactor = lowFreqFactor
            self.highFreqFactor = highFreqFactor
            self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        }

        enum CodingKeys: String, CodingKey {
            case factor
            case lowFreqFactor = "low_freq_factor"
            case highFreqFactor = "high_freq_factor"
            case originalMaxPositionEmbeddings = "original_max_position_embeddings"
        }
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
    public var ropeTheta: Double
    public var ropeScaling: Llama3RopeScaling?
    public var tieWordEmbeddings: Bool
    /// Qwen2 has biases on q, k and v projections.
    public var attentionBias: Bool
    public var maxPositionEmbeddings: Int
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]

    public init(architecture: Architecture, hiddenSize: Int, intermediateSize: Int, layerCount: Int,
                headCount: Int, keyValueHeadCount: Int, headDim: Int? = nil, vocabSize: Int,
                rmsNormEps: Double = 1e-5, ropeTheta: Double = 10000, ropeScaling: Llama3RopeScaling? = nil,
                tieWordEmbeddings: Bool = false, attentionBias: Bool? = nil, maxPositionEmbeddings: Int = 2048,
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
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
    }
}
