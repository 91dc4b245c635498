import LatheFormats

/// Where each base weight lives in one flat fp32 buffer. Sized once from the config; LoRA, gradients and exports
/// reuse the same description. Names are Hugging Face checkpoint keys.
public struct WeightLayout: Sendable {
    /// One weight: its HF name, row-major shape, and offset into the flat storage.
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// Offsets of one decoder layer's weights. Linear weights are (out, in) as in HF.
    public struct Layer: Sendable {
        public let inputNorm: Int      // (C)
        public let q: Int              // (H·D, C)
        public let k: Int              // (KVH·D, C)
        public let v: Int              // (KVH·D, C)
        public let qBias: Int?         // (H·D)   Qwen2 only
        public let kBias: Int?         // (KVH·D)
        public let vBias: Int?         // (KVH·D)
        public let qNorm: Int?         // (D)     per-head RMSNorm of q (Qwen3)
        public let kNorm: Int?         // (D)     per-head RMSNorm of k
        public let o: Int              // (C, H·D)
        public let postNorm: Int       // (C)     the norm before the MLP
        public let attentionOutNorm: Int?  // (C)  Gemma: norm of the attention output, before the residual add
        public let mlpOutNorm: Int?    // (C)     Gemma: norm of the MLP output, before the residual add
        public let gate: Int           // (F, C)
        public let up: Int             // (F, C)
        public let down: Int           // (C, F)
    }

    public let entries: [Entry]
    public let embedding: Int          // (V, C)
    public let layers: [Layer]
    public let finalNorm: Int          // (C)
    /// (V, C); equals `embedding` when the embeddings are tied.
    public let lmHead: Int
    /// Floats in the whole buffer.
    public let totalCount: Int

    public init(config: ModelConfig) {
        let (c, f, v) = (config.hiddenSize, config.intermediateSize, config.vocabSize)
        let (qRows, kvRows) = (config.headCount * config.headDim, config.keyValueHeadCount * config.headDim)
        var entries: [Entry] = []
        var next = 0
        func add(_ name: String, _ shape: [Int]) -> Int {
            let entry = Entry(name: name, shape: shape, offset: next)
            entries.append(entry)
            next += entry.count
            return entry.offset
        }
        embedding = add("model.embed_tokens.weight", [v, c])
        var layers: [Layer] = []
        for l in 0..<config.layerCount {
            let p = "model.layers.\(l)."
            let bias = config.attentionBias
            let inputNorm = add(p + "input_layernorm.weight", [c])
            // Phi-3's fused weights are q, k, v (and gate, up) stacked by rows: each part is a view at an offset.
            let qkv = config.fusedProjections ? add(p + "self_attn.qkv_proj.weight", [qRows + 2 * kvRows, c]) : nil
            let q = qkv ?? add(p + "self_attn.q_proj.weight", [qRows, c])
            let k = qkv.map { $0 + qRows * c } ?? add(p + "self_attn.k_proj.weight", [kvRows, c])
            let v = qkv.map { $0 + (qRows + kvRows) * c } ?? add(p + "self_attn.v_proj.weight", [kvRows, c])
            layers.append(Layer(
                inputNorm: inputNorm, q: q, k: k, v: v,
                qBias: bias ? add(p + "self_attn.q_proj.bias", [qRows]) : nil,
                kBias: bias ? add(p + "self_attn.k_proj.bias", [kvRows]) : nil,
                vBias: bias ? add(p + "self_attn.v_proj.bias", [kvRows]) : nil,
                qNorm: config.qkNorm ? add(p + "self_attn.q_norm.weight", [config.headDim]) : nil,
                kNorm: config.qkNorm ? add(p + "self_attn.k_norm.weight", [config.headDim]) : nil,
                o: add(p + "self_attn.o_proj.weight", [c, qRows]),
                postNorm: add(p + (config.sandwichNorms ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), [c]),
                attentionOutNorm: config.sandwichNorms ? add(p + "post_attention_layernorm.weight", [c]) : nil,
                mlpOutNorm: config.sandwichNorms ? add(p + "post_feedforward_layernorm.weight", [c]) : nil,
                gate: config.fusedProjections ? add(p + "mlp.gate_up_proj.weight", [2 * f, c]) : add(p + "mlp.gate_proj.weight", [f, c]),
                // fused: up is the second half of gate_up_proj, the entry added just above
                up: config.fusedProjections ? entries[entries.count - 1].offset + f * c : add(p + "mlp.up_proj.weight", [f, c]),
                down: add(p + "mlp.down_proj.weight", [c, f])))
        }
        self.layers = layers
        finalNorm = add("model.norm.weight", [c])
        lmHead = config.tieWordEmbeddings ? embedding : add("lm_head.weight", [v, c])
        self.entries = entries
        totalCount = next
    }
}

/// The frozen base weights of a decoder model, in one flat fp32 buffer described by `layout`.
public struct DecoderWeights: Sendable {
    public let config: ModelConfig
    public let layout: WeightLayout
    /// All base weights, fp32.
    public internal(set) var storage: [Float]

    /// Zero weights of the right sizes; tests and loaders fill them.
    public init(config: ModelConfig) {
        self.config = config
        self.layout = WeightLayout(config: config)
        self.storage = [Float](repeating: 0, count: layout.totalCount)
    }

    /// Copies every weight from `source` under its HF name, converted to fp32; `rename` maps an HF name to the
    /// source's name and `transform` may reorder rows (GGUF's Q/K permutation). Shapes are checked.
    mutating func load(from source: TensorSource, file: String,
                       rename: (String) -> String = { $0 },
                       transform: (String, inout [Float]) -> Void = { _, _ in }) throws {
        let available = Set(source.tensorNames)
        for entry in layout.entries {
            let sourceName = rename(entry.name)
            guard available.contains(sourceName) else { throw ModelError.missingTensor(file: file, name: sourceName) }
            let shape = try source.shape(of: sourceName)
            guard shape == entry.shape else {
                throw ModelError.shapeMismatch(file: file, name: sourceName, expected: entry.shape, found: shape)
            }
            var values = try source.floats(sourceName)
            guard values.count == entry.count else {
                throw ModelError.shapeMismatch(file: file, name: sourceName, expected: entry.shape, found: [values.count])
            }
            transform(entry.name, &values)
            storage.withUnsafeMutableBufferPointer { out in
                values.withUnsafeBufferPointer { src in
                    (out.baseAddress! + entry.offset).update(from: src.baseAddress!, count: entry.count)
                }
            }
        }
    }

    /// Pointer to the weight at `offset` for the duration of `body`.
    @inlinable
    public func withWeights<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
