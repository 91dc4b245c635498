import LatheFormats
import Synchronization

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
    /// Floats of the 1-D weights (norms, biases): they come first, at offsets below this, so a base whose matrices
    /// stay in the file's form holds only this prefix in fp32.
    public let vectorCount: Int

    public init(config: ModelConfig) {
        // Two passes: the first counts the vector floats, the second places the matrices after them.
        var probe = Builder(matrixBase: 0)
        _ = Self.build(config, &probe)
        var builder = Builder(matrixBase: probe.vectorNext)
        (embedding, layers, finalNorm, lmHead) = Self.build(config, &builder)
        entries = builder.entries
        vectorCount = builder.vectorNext
        totalCount = builder.matrixNext
    }

    /// Hands out offsets: 1-D weights from 0, matrices from `matrixBase`, entries in HF order.
    private struct Builder {
        var entries: [Entry] = []
        var vectorNext = 0
        var matrixNext: Int
        init(matrixBase: Int) { matrixNext = matrixBase }

        mutating func add(_ name: String, _ shape: [Int]) -> Int {
            let offset = shape.count == 1 ? vectorNext : matrixNext
            let entry = Entry(name: name, shape: shape, offset: offset)
            entries.append(entry)
            if shape.count == 1 { vectorNext += entry.count } else { matrixNext += entry.count }
            return offset
        }
    }

    private static func build(_ config: ModelConfig, _ b: inout Builder) -> (Int, [Layer], Int, Int) {
        let (c, f, v) = (config.hiddenSize, config.intermediateSize, config.vocabSize)
        let (qRows, kvRows) = (config.headCount * config.headDim, config.keyValueHeadCount * config.headDim)
        let embedding = b.add("model.embed_tokens.weight", [v, c])
        var layers: [Layer] = []
        for l in 0..<config.layerCount {
            let p = "model.layers.\(l)."
            let bias = config.attentionBias
            let inputNorm = b.add(p + "input_layernorm.weight", [c])
            // Phi-3's fused weights are q, k, v (and gate, up) stacked by rows: each part is a view at an offset.
            let qkv = config.fusedProjections ? b.add(p + "self_attn.qkv_proj.weight", [qRows + 2 * kvRows, c]) : nil
            let q = qkv ?? b.add(p + "self_attn.q_proj.weight", [qRows, c])
            let k = qkv.map { $0 + qRows * c } ?? b.add(p + "self_attn.k_proj.weight", [kvRows, c])
            let v = qkv.map { $0 + (qRows + kvRows) * c } ?? b.add(p + "self_attn.v_proj.weight", [kvRows, c])
            let qBias = bias ? b.add(p + "self_attn.q_proj.bias", [qRows]) : nil
            let kBias = bias ? b.add(p + "self_attn.k_proj.bias", [kvRows]) : nil
            let vBias = bias ? b.add(p + "self_attn.v_proj.bias", [kvRows]) : nil
            let qNorm = config.qkNorm ? b.add(p + "self_attn.q_norm.weight", [config.headDim]) : nil
            let kNorm = config.qkNorm ? b.add(p + "self_attn.k_norm.weight", [config.headDim]) : nil
            let o = b.add(p + "self_attn.o_proj.weight", [c, qRows])
            let postNorm = b.add(p + (config.sandwichNorms ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"), [c])
            let attentionOutNorm = config.sandwichNorms ? b.add(p + "post_attention_layernorm.weight", [c]) : nil
            let mlpOutNorm = config.sandwichNorms ? b.add(p + "post_feedforward_layernorm.weight", [c]) : nil
            let gate = config.fusedProjections ? b.add(p + "mlp.gate_up_proj.weight", [2 * f, c]) : b.add(p + "mlp.gate_proj.weight", [f, c])
            // fused: up is the second half of gate_up_proj, the entry added just above
            let up = config.fusedProjections ? gate + f * c : b.add(p + "mlp.up_proj.weight", [f, c])
            layers.append(Layer(
                inputNorm: inputNorm, q: q, k: k, v: v, qBias: qBias, kBias: kBias, vBias: vBias, qNorm: qNorm, kNorm: kNorm,
                o: o, postNorm: postNorm, attentionOutNorm: attentionOutNorm, mlpOutNorm: mlpOutNorm,
                gate: gate, up: up, down: b.add(p + "mlp.down_proj.weight", [c, f])))
        }
        let finalNorm = b.add("model.norm.weight", [c])
        let lmHead = config.tieWordEmbeddings ? embedding : b.add("lm_head.weight", [v, c])
        return (embedding, layers, finalNorm, lmHead)
    }
}

/// The frozen base weights of a decoder model, described by `layout`: the 1-D weights in fp32, and each matrix either
/// in fp32 (`storage` spans the whole layout) or kept in the file's storage type (`storage` holds only the vectors).
public struct DecoderWeights: Sendable {
    public let config: ModelConfig
    public let layout: WeightLayout
    /// fp32 values at layout offsets: every weight, or only the first `layout.vectorCount` (norms, biases) when the
    /// matrices are kept quantised.
    public internal(set) var storage: [Float]
    /// Matrices kept in their stored type, by the layout offset of their entry (whole fused matrices included).
    public internal(set) var quantized: [Int: QuantizedMatrix] = [:]
    /// The matrix each projection multiplies by, by its layout offset: the entries of `quantized`, and the row
    /// slices of fused ones (Phi-3's q, k, v in `qkv_proj`; gate, up in `gate_up_proj`).
    private var projections: [Int: QuantizedMatrix] = [:]
    /// How decode steps multiply by matrices kept in a ggml 4- or 8-bit type (`lathe generate`/`serve`
    /// `--decode-activations`). Evaluation and training leave it at `fp32`.
    public var decodeActivations = DecodeActivations.fp32

    /// Distinct for every set of weights made in this process (copies share it). With the storage's address it
    /// tells a workspace that the base it computed DoRA norms over is the base it is handed now: another model's
    /// storage may land at a freed model's address.
    let identity = Self.newIdentity()
    private static let identities = Mutex<UInt64>(0)
    private static func newIdentity() -> UInt64 { identities.withLock { $0 += 1; return $0 } }

    /// Zero fp32 weights of the right sizes; tests and loaders fill them.
    public init(config: ModelConfig) {
        self.init(config: config, quantizedMatrices: false)
    }

    /// Zero vectors and, unless `quantizedMatrices`, zero fp32 matrices.
    init(config: ModelConfig, quantizedMatrices: Bool) {
        self.config = config
        self.layout = WeightLayout(config: config)
        self.storage = [Float](repeating: 0, count: quantizedMatrices ? layout.vectorCount : layout.totalCount)
    }

    /// True when the matrices are kept in a stored type rather than fp32.
    public var keepsMatricesQuantized: Bool { storage.count < layout.totalCount }

    /// Bytes the frozen base occupies in memory: fp32 storage plus the stored matrices (mapped or owned).
    public var byteCount: Int { 4 * storage.count + quantized.values.reduce(0) { $0 + $1.byteCount } }

    /// The frozen matrix at layout offset `offset` (a projection, the embedding or the LM head).
    public func matrix(at offset: Int) -> FrozenMatrix {
        if let view = projections[offset] { return .quantized(view) }
        precondition(offset >= layout.vectorCount && offset < storage.count, "no matrix at offset \(offset)")
        return .dense(offset: offset)
    }

    /// The values of `entry` in fp32, row-major (exports and merges; one matrix at a time).
    public func values(of entry: WeightLayout.Entry) -> [Float] {
        if let matrix = quantized[entry.offset], entry.shape.count == 2 { return matrix.floats() }
        return Array(storage[entry.offset..<(entry.offset + entry.count)])
    }

    /// The same weights with every matrix in fp32 (the merge of an adapter into the base, and fp32 exports).
    public func densified() -> DecoderWeights {
        guard keepsMatricesQuantized else { return self }
        var dense = DecoderWeights(config: config)
        dense.storage.withUnsafeMutableBufferPointer { out in
            for i in 0..<layout.vectorCount { out[i] = storage[i] }
            for (offset, matrix) in quantized { matrix.dequantize(rows: 0..<matrix.rows, into: out.baseAddress! + offset) }
        }
        return dense
    }

    /// Sets the stored matrix of the entry at `offset` and refreshes the projection views (fused parts included).
    mutating func setQuantized(_ matrix: QuantizedMatrix, at offset: Int) {
        quantized[offset] = matrix
        projections[offset] = matrix
        guard config.fusedProjections else { return }
        let (c, f) = (config.hiddenSize, config.intermediateSize)
        let (qRows, kvRows) = (config.headCount * config.headDim, config.keyValueHeadCount * config.headDim)
        for layer in layout.layers {
            if offset == layer.q {
                projections[layer.q] = matrix.rowSlice(0..<qRows)
                projections[layer.k] = matrix.rowSlice(qRows..<(qRows + kvRows))
                projections[layer.v] = matrix.rowSlice((qRows + kvRows)..<(qRows + 2 * kvRows))
                precondition(layer.k == layer.q + qRows * c)
            } else if offset == layer.gate {
                projections[layer.gate] = matrix.rowSlice(0..<f)
                projections[layer.up] = matrix.rowSlice(f..<(2 * f))
            }
        }
    }

    /// Pointer to the fp32 storage for the duration of `body`.
    @inlinable
    public func withWeights<R>(_ body: (UnsafePointer<Float>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }
}
