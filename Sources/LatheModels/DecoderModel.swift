import LatheTensors
import LatheSupport

/// A decoder-only transformer over frozen weights (fp32, or matrices kept quantised — `FrozenMatrix`): every architecture Lathe runs (Llama 2/3/3.2, Mistral,
/// Qwen2, Qwen3, Gemma 3, SmolLM) is a `ModelConfig` read by the one `DecoderLayer` (DecoderLayer.swift).
public struct DecoderModel: Sendable {
    public let config: ModelConfig
    public let weights: DecoderWeights
    public let rope: RopeFrequencies
    let layers: [DecoderLayer]

    public init(weights: DecoderWeights, rope: RopeFrequencies? = nil) {
        self.config = weights.config
        self.weights = weights
        let rope = rope ?? RopeFrequencies(config: weights.config)
        self.rope = rope
        let localRope = weights.config.localRopeTheta.map { RopeFrequencies(headDim: weights.config.headDim, theta: $0) }
        let longRope = weights.config.longRope == nil ? nil : RopeFrequencies(config: weights.config, long: true)
        self.layers = (0..<weights.config.layerCount).map {
            DecoderLayer(config: weights.config, layer: $0, weights: weights.layout, rope: rope, localRope: localRope,
                         longRope: longRope)
        }
    }

    /// One batch of equal-length token rows, with positions and optional packing segments.
    public struct Batch: Sendable {
        public let tokens: [Int32]      // (B·T)
        public let positions: [Int32]   // (B·T)
        /// Packed samples: tokens attend only within their segment. nil: one sample per row.
        public let segments: [Int32]?   // (B·T)
        public let batch: Int
        public let length: Int

        /// Rows of `tokens`, all the same length, positions 0..<T.
        public init(rows: [[Int32]]) throws {
            guard let first = rows.first, !first.isEmpty else { throw ModelError.invalidInput("empty batch") }
            guard rows.allSatisfy({ $0.count == first.count }) else {
                throw ModelError.invalidInput("batch rows have different lengths; pad them first")
            }
            self.init(tokens: rows.flatMap { $0 }, positions: rows.flatMap { $0.indices.map { Int32($0) } },
                      segments: nil, batch: rows.count, length: first.count)
        }

        /// A batch from flat arrays; `positions` restart at each packed sample.
        public init(tokens: [Int32], positions: [Int32], segments: [Int32]?, batch: Int, length: Int) {
            precondition(tokens.count == batch * length && positions.count == tokens.count)
            precondition(segments == nil || segments!.count == tokens.count)
            self.tokens = tokens
            self.positions = positions
            self.segments = segments
            self.batch = batch
            self.length = length
        }

        /// The batch's rows and positions as pointers, with its attention source, for the duration of `body`.
        func withPointers<R>(_ body: (UnsafePointer<Int32>, UnsafePointer<Int32>, AttentionSource) throws -> R) rethrows -> R {
            try tokens.withUnsafeBufferPointer { t in
                try positions.withUnsafeBufferPointer { p in
                    try withOptionalPointer(segments) { s in
                        try body(t.baseAddress!, p.baseAddress!, .batch(segments: s, batch: batch, length: length))
                    }
                }
            }
        }
    }

    /// Embedding, then every layer's forward, then the final norm, as HF `LlamaModel.forward`: leaves the final
    /// normed rows (n, C) in `ws.finalNormed`. `attention(l)` says where layer l's keys and values come from,
    /// so the batch forward, the KV-cache step, prefix scoring and training differ only there (and in adapters).
    func forwardLayers(_ tokens: UnsafePointer<Int32>, positions: UnsafePointer<Int32>, n: Int, _ base: FrozenBase,
                       ws: DecoderWorkspace, attention: (Int) -> AttentionSource,
                       adapters: (Int) -> LayerAdapters = { _ in .none },
                       tokenRows: (rows: TokenRows, parameters: UnsafePointer<Float>)? = nil) {
        let c = config.hiddenSize
        if let tokenRows {
            // Ids past the base vocabulary have no base row: gather a stand-in, then write the trained rows.
            let clamped = tokenRows.rows.clampedForBase(Array(UnsafeBufferPointer(start: tokens, count: n)))
            clamped.withUnsafeBufferPointer { base.matrix(weights.layout.embedding).gatherRows(ws.layers[0].input, $0.baseAddress!, n: n, c: c) }
            tokenRows.rows.replaceEmbeddings(ws.layers[0].input, tokens, n: n, tokenRows.parameters)
        } else {
            base.matrix(weights.layout.embedding).gatherRows(ws.layers[0].input, tokens, n: n, c: c)
        }
        if let scale = config.embeddingScale { scaleInPlace(ws.layers[0].input, scale, count: n * c) }
        let long = usesLongRope(positions, n: n)
        for (l, layer) in layers.enumerated() {
            layer.forward(ws.layers[l], base, positions: positions, n: n, long: long, attention: attention(l),
                          adapters: adapters(l), scratch: ws.scratch)
        }
        rmsNormForward(ws.finalNormed, ws.finalRstd, ws.finalInput, base.w + weights.layout.finalNorm, n: n, c: c,
                       eps: Float(config.rmsNormEps))
    }

    /// LongRoPE (Phi-3) switches to its long factors for a whole forward pass once a position reaches
    /// `original_max_position_embeddings`, as transformers' `longrope_frequency_update` does (max(position) + 1 > it).
    func usesLongRope(_ positions: UnsafePointer<Int32>, n: Int) -> Bool {
        guard let longRope = config.longRope else { return false }
        var largest: Int32 = 0
        for i in 0..<n { largest = max(largest, positions[i]) }
        return Int(largest) + 1 > longRope.originalMaxPositionEmbeddings
    }

    /// Final normed hidden states (B·T, C) for `batch`.
    public func hiddenStates(_ batch: Batch) throws -> [Float] {
        try validate(batch.tokens)
        let n = batch.tokens.count
        let ws = DecoderWorkspace(inference: config, rows: n)
        weights.withBase(ws.tile) { base in
            batch.withPointers { tokens, positions, source in
                forwardLayers(tokens, positions: positions, n: n, base, ws: ws, attention: { _ in source })
            }
        }
        return Array(UnsafeBufferPointer(start: ws.finalNormed, count: n * config.hiddenSize))
    }

    /// Logits (B, T, V) for every position. For scoring, prefer `tokenLogProbs`, which never holds them all.
    public func logits(_ batch: Batch) throws -> Tensor {
        let hidden = try hiddenStates(batch)
        let (n, vocab) = (batch.tokens.count, config.vocabSize)
        var logits = Tensor(zeros: [batch.batch, batch.length, vocab])
        weights.withBase(TileScratch()) { base in
            lmHead(hidden, rows: n, &logits.storage, base)
        }
        return logits
    }

    /// log p(targets[i] | tokens ≤ i) for each row i with `targets[i] >= 0` (others give 0), computed over
    /// chunks of `chunkRows` rows so the (N, V) logits are never materialised at once.
    public func tokenLogProbs(_ batch: Batch, targets: [Int32], chunkRows: Int = 64) throws -> [Float] {
        precondition(targets.count == batch.tokens.count)
        try validate(targets.filter { $0 >= 0 })
        let hidden = try hiddenStates(batch)
        let (n, c, vocab) = (batch.tokens.count, config.hiddenSize, config.vocabSize)
        var result = [Float](repeating: 0, count: n)
        var chunk = [Float](repeating: 0, count: chunkRows * vocab)  // (rows, V)
        weights.withBase(TileScratch()) { base in
            var start = 0
            while start < n {
                let rows = min(chunkRows, n - start)
                hidden.withUnsafeBufferPointer { hp in
                    lmHead(hp.baseAddress! + start * c, rows: rows, &chunk, base)
                }
                result.withUnsafeMutableBufferPointer { out in
                    targets.withUnsafeBufferPointer { t in
                        logSoftmaxGather(out.baseAddress! + start, chunk, t.baseAddress! + start, n: rows, v: vocab)
                    }
                }
                start += rows
            }
        }
        for i in 0..<n where targets[i] < 0 { result[i] = 0 }
        return result
    }

    /// `logits (rows, V) = hidden (rows, C) · LM headᵀ`, soft-capped when the architecture caps them (Gemma).
    func lmHead(_ hidden: UnsafePointer<Float>, rows: Int, _ logits: UnsafeMutablePointer<Float>, _ base: FrozenBase) {
        let (c, vocab) = (config.hiddenSize, config.vocabSize)
        base.matrix(weights.layout.lmHead).forward(logits, hidden, bias: nil, rows: rows, out: vocab, in: c)
        if let cap = config.finalLogitSoftcap { softcapForward(logits, cap: Float(cap), count: rows * vocab) }
    }

    func validate(_ tokens: [Int32], vocab: Int? = nil) throws {
        let vocab = vocab ?? config.vocabSize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocab }) {
            throw ModelError.invalidInput("token id \(bad) is outside the vocabulary (0..<\(vocab))")
        }
    }
}

/// `out (rows, out) = x (rows, in) · Wᵀ + bias`, W stored (out, in) as in HF.
func linear(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
            bias: UnsafePointer<Float>?, rows: Int, out outFeatures: Int, in inFeatures: Int) {
    matmul(x, .none, weight, .transposed, out, m: rows, n: outFeatures, k: inFeatures)
    if let bias { addBias(out, bias, rows: rows, out: outFeatures) }
}

func withOptionalPointer<R>(_ array: [Int32]?, _ body: (UnsafePointer<Int32>?) throws -> R) rethrows -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

/// `x *= factor`, element-wise (Gemma's embedding scale).
func scaleInPlace(_ x: UnsafeMutablePointer<Float>, _ factor: Float, count: Int) {
    Parallel.forEachChunk(count, minimumChunk: 1 << 14) { range in
        for i in range { x[i] *= factor }
    }
}
