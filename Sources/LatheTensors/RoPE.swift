// Rotary position embedding in Hugging Face's `rotate_half` layout: within a head vector x (D) the pairs
// are (x[i], x[i + R/2]) for i < R/2, rotated by angle = position · inverseFrequencies[i], where R (the rotary
// dimension) is D unless the embedding is partial (Phi-3); values R..<D pass through.
#if canImport(Glibc)
import Glibc
#endif
import LatheSupport

/// Llama 3 frequency rescaling (`rope_scaling.rope_type == "llama3"` in `config.json`).
public struct Llama3RopeScaling: Sendable, Equatable {
    /// `factor`: long wavelengths are divided by it (8 in Llama 3.1).
    public var factor: Double
    /// `low_freq_factor`: wavelengths above original / lowFreqFactor are fully scaled.
    public var lowFreqFactor: Double
    /// `high_freq_factor`: wavelengths below original / highFreqFactor are unchanged.
    public var highFreqFactor: Double
    /// `original_max_position_embeddings`: the context length the base frequencies were trained for.
    public var originalMaxPositionEmbeddings: Int

    /// Scaling with the four `rope_scaling` values of `config.json`.
    public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int) {
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
    }
}

/// LongRoPE (Phi-3, `rope_type: longrope`): the base frequencies divided by per-frequency factors — `short` while
/// a forward pass reaches at most `originalMaxPositionEmbeddings` positions, `long` beyond — and cos/sin scaled by
/// `attentionFactor`.
public struct LongRopeScaling: Sendable, Equatable {
    public var shortFactor: [Double]
    public var longFactor: [Double]
    public var originalMaxPositionEmbeddings: Int
    public var attentionFactor: Double

    /// The scaling `rope_parameters` describes; `attentionFactor` nil takes transformers' default,
    /// √(1 + ln(factor) / ln(original)) with factor = max_position_embeddings / original (1 when factor ≤ 1).
    public init(shortFactor: [Double], longFactor: [Double], originalMaxPositionEmbeddings: Int,
                maxPositionEmbeddings: Int, attentionFactor: Double? = nil) {
        self.shortFactor = shortFactor
        self.longFactor = longFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
        let factor = Double(maxPositionEmbeddings) / Double(originalMaxPositionEmbeddings)
        self.attentionFactor = attentionFactor
            ?? (factor <= 1 ? 1 : (1 + log(factor) / log(Double(originalMaxPositionEmbeddings))).squareRoot())
    }
}

/// The inverse frequencies of one head, computed in fp32 exactly as transformers'
/// `_compute_default_rope_parameters`, `_compute_llama3_parameters` and `_compute_longrope_parameters`
/// (modeling_rope_utils.py) do. Partial rotary (Phi-3): only the first `rotaryDim` values of each head rotate.
public struct RopeFrequencies: Sendable {
    /// D, the head dimension (even).
    public let headDim: Int
    /// The rotated prefix of each head (even, ≤ D); D unless the rotary embedding is partial.
    public let rotaryDim: Int
    /// `inv_freq` (rotaryDim/2): 1 / theta^(2i/rotaryDim), then Llama 3 or LongRoPE rescaling when configured.
    public let inverseFrequencies: [Float]
    /// cos and sin are multiplied by this (LongRoPE's attention factor); 1 otherwise.
    public let scale: Float

    /// Frequencies for `headDim` (even) and `rope_theta`, optionally with Llama 3 scaling.
    public init(headDim: Int, theta: Double, llama3: Llama3RopeScaling? = nil) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPE head dimension \(headDim) must be even")
        self.headDim = headDim
        self.rotaryDim = headDim
        self.scale = 1
        // HF: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), every step in fp32.
        var inverse = (0..<(headDim / 2)).map { i in
            1 / powf(Float(theta), Float(2 * i) / Float(headDim))
        }
        if let llama3 {
            let factor = Float(llama3.factor), low = Float(llama3.lowFreqFactor), high = Float(llama3.highFreqFactor)
            let original = Float(llama3.originalMaxPositionEmbeddings)
            let lowFreqWavelen = Float(Double(llama3.originalMaxPositionEmbeddings) / llama3.lowFreqFactor)
            let highFreqWavelen = Float(Double(llama3.originalMaxPositionEmbeddings) / llama3.highFreqFactor)
            inverse = inverse.map { base in
                let wavelen = Float(2 * Double.pi) / base
                let scaled = wavelen > lowFreqWavelen ? base / factor : base
                if wavelen < highFreqWavelen || wavelen > lowFreqWavelen { return scaled }
                let smooth = (original / wavelen - low) / (high - low)
                return (1 - smooth) * scaled / factor + smooth * scaled
            }
        }
        self.inverseFrequencies = inverse
    }

    /// Frequencies given directly, e.g. a GGUF's base frequencies divided by its `rope_freqs` factors.
    public init(headDim: Int, rotaryDim: Int? = nil, inverseFrequencies: [Float], scale: Float = 1) {
        let rotaryDim = rotaryDim ?? headDim
        precondition(headDim > 0 && rotaryDim > 0 && rotaryDim % 2 == 0 && rotaryDim <= headDim
                     && inverseFrequencies.count == rotaryDim / 2,
                     "RoPE over \(rotaryDim) of \(headDim) values needs \(rotaryDim / 2) frequencies, got \(inverseFrequencies.count)")
        self.headDim = headDim
        self.rotaryDim = rotaryDim
        self.inverseFrequencies = inverseFrequencies
        self.scale = scale
    }

    /// LongRoPE frequencies over the first `rotaryDim` values of each head: 1 / (factor[i] · theta^(2i/rotaryDim)),
    /// with the long factors when `long`, else the short ones.
    public init(headDim: Int, rotaryDim: Int, theta: Double, longRope: LongRopeScaling, long: Bool) {
        let factors = long ? longRope.longFactor : longRope.shortFactor
        precondition(factors.count == rotaryDim / 2, "LongRoPE needs \(rotaryDim / 2) factors, got \(factors.count)")
        // HF: 1.0 / (ext_factors * base ** (arange(0, dim, 2).float() / dim)), in fp32.
        let inverse = (0..<(rotaryDim / 2)).map { i in
            1 / (Float(factors[i]) * powf(Float(theta), Float(2 * i) / Float(rotaryDim)))
        }
        self.init(headDim: headDim, rotaryDim: rotaryDim, inverseFrequencies: inverse, scale: Float(longRope.attentionFactor))
    }
}

/// Rotates every head of `x (N, heads·D)` in place by its row's position (`positions (N)`).
public func ropeForward(
    _ x: UnsafeMutablePointer<Float>,         // (N, heads·D)
    _ positions: UnsafePointer<Int32>,        // (N)
    _ frequencies: RopeFrequencies,
    n: Int, heads: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(8 * n * heads * frequencies.headDim)) }
    rotate(x, positions, frequencies, n: n, heads: heads, direction: 1)
}

/// Turns `dx (N, heads·D)`, the gradient of the rotated values, in place into the gradient of the
/// unrotated ones: the rotation is orthogonal, so this is the inverse rotation.
public func ropeBackward(
    _ dx: UnsafeMutablePointer<Float>,        // (N, heads·D)
    _ positions: UnsafePointer<Int32>,        // (N)
    _ frequencies: RopeFrequencies,
    n: Int, heads: Int
) {
    let span = OpProfiler.begin()
    defer { OpProfiler.end(span, .elementwise, bytes: Double(8 * n * heads * frequencies.headDim)) }
    rotate(dx, positions, frequencies, n: n, heads: heads, direction: -1)
}

private func rotate(_ x: UnsafeMutablePointer<Float>, _ positions: UnsafePointer<Int32>,
                    _ frequencies: RopeFrequencies, n: Int, heads: Int, direction: Float) {
    precondition(n >= 0 && heads >= 0, "rope n=\(n) heads=\(heads)")
    let d = frequencies.headDim, half = frequencies.rotaryDim / 2, scale = frequencies.scale
    frequencies.inverseFrequencies.withUnsafeBufferPointer { inverse in
        let shared = UncheckedSendable((x, positions, inverse.baseAddress!))
        Parallel.forEachChunk(n, minimumChunk: 16) { rows in
            let (x, positions, inverse) = shared.value
            // cos and sin of this row's angles, shared by all its heads.
            let table = UnsafeMutablePointer<Float>.allocate(capacity: d)
            defer { table.deallocate() }
            let cosines = table, sines = table + half
            for row in rows {
                let position = Float(positions[row])
                for i in 0..<half {
                    // HF: freqs = position.float() * inv_freq in fp32, then fp32 cos/sin of that angle.
                    let angle = position * inverse[i]
                    cosines[i] = cosf(angle)
                    sines[i] = direction * sinf(angle)
                }
                if scale != 1 {
                    // HF: cos = emb.cos() * attention_scaling (LongRoPE); the backward rotates by the transpose.
                    for i in 0..<half { cosines[i] *= scale; sines[i] *= scale }
                }
                for head in 0..<heads {
                    let first = x + row * heads * d + head * d, second = first + half
                    var i = 0
                    while i + 8 <= half {
                        let a = load8(first + i), b = load8(second + i)
                        let c = load8(cosines + i), s = load8(sines + i)
                        store8(a * c - b * s, first + i)
                        store8(b * c + a * s, second + i)
                        i += 8
                    }
                    while i < half {
                        let a = first[i], b = second[i]
                        first[i] = a * cosines[i] - b * sines[i]
                        second[i] = b * cosines[i] + a * sines[i]
                        i += 1
                    }
                }
            }
        }
    }
}
