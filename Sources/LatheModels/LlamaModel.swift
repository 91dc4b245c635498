import LatheSupport
import LatheTensors

/// A Llama-family decoder (Llama 2/3, Mistral, Qwen2, SmolLM) over frozen fp32 weights.
/// The forward is a flat list of op calls per layer, as in HF `LlamaDecoderLayer`.
public struct LlamaModel: Sendable {
    public let config: ModelConfig
    public let weights: LlamaWeights
    public let rope: RopeFrequencies

    public init(weights: LlamaWeights, rope: RopeFrequencies? = nil) {
        self.config = weights.config
        self.weights = weights
        self.rope = rope ?? RopeFrequencies(headDim: weights.config.headDim, theta: weights.config.ropeTheta,
                                            llama3: weights.config.ropeScaling)
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
    }

    /// Final normed hidden states (B·T, C) for `batch`.
    public func hiddenStates(_ batch: Batch) throws -> [Float] {
        try validate(batch.tokens)
        let (h, kvh, d) = (config.headCount, config.keyValueHeadCount, config.headDim)
        var lse = [Float](repeating: 0, count: batch.tokens.count * h)  // (B, H, T)
        return decoderStack(batch.tokens, positions: batch.positions) { _, out, q, k, v in
            withOptionalPointer(batch.segments) { segments in
                attentionForward(out, &lse, q, k, v, segments: segments, batch: batch.batch,
                                 tokens: batch.length, heads: h, kvHeads: kvh, headDim: d)
            }
        }
    }

    /// The inference forward as HF `LlamaModel.forward`: embedding, then per layer norm → q/k/v → RoPE →
    /// attention → o → residual → norm → SwiGLU MLP → residual, then the final norm; returns (n, C).
    /// `attend(layer, out (n, H·D), q (n, H·D), k, v (n, KVH·D))` computes attention from the roped rows, so the
    /// batch forward, the KV-cache step and prefix scoring differ only there.
    func decoderStack(_ tokens: [Int32], positions: [Int32],
                      attend: (Int, UnsafeMutablePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>) -> Void)
        -> [Float] {
        let (c, f, n) = (config.hiddenSize, config.intermediateSize, tokens.count)
        let (h, kvh, d) = (config.headCount, config.keyValueHeadCount, config.headDim)
        let eps = Float(config.rmsNormEps)
        var hidden = [Float](repeating: 0, count: n * c)        // (n, C) residual stream
        var normed = [Float](repeating: 0, count: n * c)        // (n, C)
        var rstd = [Float](repeating: 0, count: n)              // (n)
        var q = [Float](repeating: 0, count: n * h * d)         // (n, H·D)
        var k = [Float](repeating: 0, count: n * kvh * d)       // (n, KVH·D)
        var v = [Float](repeating: 0, count: n * kvh * d)       // (n, KVH·D)
        var attention = [Float](repeating: 0, count: n * h * d) // (n, H·D)
        var projected = [Float](repeating: 0, count: n * c)     // (n, C)
        var gate = [Float](repeating: 0, count: n * f)          // (n, F)
        var up = [Float](repeating: 0, count: n * f)            // (n, F)
        var activated = [Float](repeating: 0, count: n * f)     // (n, F)
        weights.withWeights { w in
            embeddingForward(&hidden, tokens, w + weights.layout.embedding, n: n, c: c)
            for (l, layer) in weights.layout.layers.enumerated() {
                rmsNormForward(&normed, &rstd, hidden, w + layer.inputNorm, n: n, c: c, eps: eps)
                linear(&q, normed, w + layer.q, bias: layer.qBias.map { w + $0 }, rows: n, out: h * d, in: c)
                linear(&k, normed, w + layer.k, bias: layer.kBias.map { w + $0 }, rows: n, out: kvh * d, in: c)
                linear(&v, normed, w + layer.v, bias: layer.vBias.map { w + $0 }, rows: n, out: kvh * d, in: c)
                ropeForward(&q, positions, rope, n: n, heads: h)
                ropeForward(&k, positions, rope, n: n, heads: kvh)
                attend(l, &attention, q, k, v)
                linear(&projected, attention, w + layer.o, bias: nil, rows: n, out: c, in: h * d)
                addInPlace(&hidden, projected)
                rmsNormForward(&normed, &rstd, hidden, w + layer.postNorm, n: n, c: c, eps: eps)
                linear(&gate, normed, w + layer.gate, bias: nil, rows: n, out: f, in: c)
                linear(&up, normed, w + layer.up, bias: nil, rows: n, out: f, in: c)
                swigluForward(&activated, gate, up, count: n * f)
                linear(&projected, activated, w + layer.down, bias: nil, rows: n, out: c, in: f)
                addInPlace(&hidden, projected)
            }
            rmsNormForward(&normed, &rstd, hidden, w + weights.layout.finalNorm, n: n, c: c, eps: eps)
        }
        return normed
    }

    /// Logits (B, T, V) for every position. For scoring, prefer `tokenLogProbs`, which never holds them all.
    public func logits(_ batch: Batch) throws -> Tensor {
        let hidden = try hiddenStates(batch)
        let (n, c, vocab) = (batch.tokens.count, config.hiddenSize, config.vocabSize)
        var logits = Tensor(zeros: [batch.batch, batch.length, vocab])
        weights.withWeights { w in
            matmul(hidden, .none, w + weights.layout.lmHead, .transposed, &logits.storage, m: n, n: vocab, k: c)
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
        weights.withWeights { w in
            var start = 0
            while start < n {
                let rows = min(chunkRows, n - start)
                hidden.withUnsafeBufferPointer { hp in
                    matmul(hp.baseAddress! + start * c, .none, w + weights.layout.lmHead, .transposed, &chunk,
                           m: rows, n: vocab, k: c)
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

    func validate(_ tokens: [Int32]) throws {
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw ModelError.invalidInput("token id \(bad) is outside the vocabulary (0..<\(config.vocabSize))")
        }
    }
}

/// `out (rows, out) = x (rows, in) · Wᵀ + bias`, W stored (out, in) as in HF.
func linear(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
            bias: UnsafePointer<Float>?, rows: Int, out outFeatures: Int, in inFeatures: Int) {
    matmul(x, .none, weight, .transposed, out, m: rows, n: outFeatures, k: inFeatures)
    guard let bias else { return }
    Parallel.forEachChunk(rows, minimumChunk: 16) { range in
        for r in range {
            let row = out + r * outFeatures
            for j in 0..<outFeatures { row[j] += bias[j] }
        }
    }
}

func withOptionalPointer<R>(_ array: [Int32]?, _ body: (UnsafePointer<Int32>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// `x += y`, elementwise (the residual connection, in place).
func addInPlace(_ x: inout [Float], _ y: [Float]) {
    precondition(x.count == y.count)
    x.withUnsafeMutableBufferPointer { xp in
        residualForward(xp.baseAddress!, xp.baseAddress!, y, count: xp.count)
    }
}
