// Rotary position embedding in Hugging Face's `rotate_half` layout: within a head vector x (D) the pairs
// are (x[i], x[i + D/2]) for i < D/2, rotated by angle = position · inverseFrequencies[i].
#if canImport(Glibc)
import Glibc
import LatheSupport
#endif

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

/// The D/2 inverse frequencies of one head, computed in fp32 exactly as transformers'
/// `_compute_default_rope_parameters` and `_compute_llama3_parameters` (modeling_rope_utils.py) do.
public struct RopeFrequencies: Sendable {
    /// D, the head dimension (even).
    public let headDim: Int
    /// `inv_freq` (D/2): 1 / theta^(2i/D), then Llama 3 rescaling when configured.
    public let inverseFrequencies: [Float]

    /// Frequencies for `headDim` (even) and `rope_theta`, optionally with Llama 3 scaling.
    public init(headDim: Int, theta: Double, llama3: Llama3RopeScaling? = nil) {
        precondition(headDim > 0 && headDim % 2 == 0, "RoPE head dimension \(headDim) must be even")
        self.headDim = headDim
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
    public init(headDim: Int, inverseFrequencies: [Float]) {
        precondition(headDim > 0 && headDim % 2 == 0 && inverseFrequencies.count == headDim / 2,
                     "RoPE needs D/2 = \(headDim / 2) frequencies, got \(inverseFrequencies.count)")
        self.headDim = headDim
        self.inverseFrequencies = inverseFrequencies
    }
}

/// Rotates every head of `x (N, heads·D)` in place by its row's position (`positions (N)`).
public func ropeForward(
    _ x: UnsafeMutablePointer<Float>,         // (N, heads·D)
    _ positions: UnsafePointer<Int32>,        // (N)
    _ frequencies: RopeFrequencies,
    n: Int, heads: Int
) {
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
    rotate(dx, positions, frequencies, n: n, heads: heads, direction: -1)
}

private func rotate(_ x: UnsafeMutablePointer<Float>, _ positions: UnsafePointer<Int32>,
                    _ frequencies: RopeFrequencies, n: Int, heads: Int, direction: Float) {
    precondition(n >= 0 && heads >= 0, "rope n=\(n) heads=\(heads)")
    let d = frequencies.headDim, half = d / 2
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
