import Foundation
import LatheSupport
import Testing
@testable import LatheTensors

@Suite struct RoPETests {
    static let llama3 = Llama3RopeScaling(factor: 8, lowFreqFactor: 1, highFreqFactor: 4,
                                          originalMaxPositionEmbeddings: 8192)
    static let frequencySets = [RopeFrequencies(headDim: 16, theta: 10000),
                                RopeFrequencies(headDim: 64, theta: 500000, llama3: llama3)]

    // Golden values from transformers 5.24 (fp32, CPU), produced by:
    //   cfg = LlamaConfig(hidden_size=256, num_attention_heads=4, rope_theta=..., rope_scaling=...)
    //   LlamaRotaryEmbedding(cfg).inv_freq  and  cos, sin = LlamaRotaryEmbedding(cfg)(x, torch.tensor([[0, 1, 1000]]))
    // with rope_scaling {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
    // "original_max_position_embeddings": 8192}.
    @Test func defaultFrequenciesMatchTransformers() {
        let f = RopeFrequencies(headDim: 64, theta: 100000)
        let expected: [Int: Float] = [0: 1.0, 1: 0.6978305578231812, 7: 0.08058421313762665,
                                      16: 0.003162277862429619, 31: 1.4330126759887207e-05]
        #expect(f.inverseFrequencies.count == 32)
        for (i, value) in expected { #expect(abs(f.inverseFrequencies[i] - value) <= 2e-7 * value, "inv_freq[\(i)]") }
    }

    @Test func llama3FrequenciesMatchTransformers() {
        let f = RopeFrequencies(headDim: 64, theta: 500000, llama3: Self.llama3)
        // 0–14 high frequency (unchanged), 15–17 blended, 18–31 divided by the factor.
        let expected: [Int: Float] = [0: 1.0, 1: 0.663601279258728, 13: 0.00483942124992609,
                                      14: 0.0032114461064338684, 15: 0.0013718936825171113,
                                      16: 0.0005248460220173001, 17: 0.0001785077911335975,
                                      18: 7.784655463183299e-05, 31: 3.76732259610435e-07]
        for (i, value) in expected { #expect(abs(f.inverseFrequencies[i] - value) <= 2e-7 * value, "inv_freq[\(i)]") }

        // cos and sin at position 1000 for pairs 0, 15 and 31: rotate unit vectors e_i.
        let cosines: [Float] = [0.5623790621757507, 0.19759376347064972, 0.9999999403953552]
        let sines: [Float] = [0.8268795609474182, 0.9802839756011963, 0.0003767322632484138]
        for (k, i) in [0, 15, 31].enumerated() {
            var x = [Float](repeating: 0, count: 64)
            x[i] = 1
            ropeForward(&x, [1000], f, n: 1, heads: 1)
            #expect(abs(x[i] - cosines[k]) < 2e-6, "cos pair \(i)")
            #expect(abs(x[i + 32] - sines[k]) < 2e-6, "sin pair \(i)")
        }
    }

    @Test(arguments: frequencySets)
    func forwardMatchesDouble(frequencies: RopeFrequencies) {
        let (n, heads, d) = (5, 3, frequencies.headDim)
        var rng = SplitMix64(seed: 40)
        let x = rng.floats(n * heads * d)
        let positions: [Int32] = [0, 1, 7, 300, 2047]
        var out = x
        ropeForward(&out, positions, frequencies, n: n, heads: heads)
        for row in 0..<n {
            for h in 0..<heads {
                let base = row * heads * d + h * d
                for i in 0..<(d / 2) {
                    let angle = Double(Float(positions[row]) * frequencies.inverseFrequencies[i])
                    let (a, b) = (Double(x[base + i]), Double(x[base + i + d / 2]))
                    #expect(abs(Double(out[base + i]) - (a * cos(angle) - b * sin(angle))) < 1e-6)
                    #expect(abs(Double(out[base + i + d / 2]) - (b * cos(angle) + a * sin(angle))) < 1e-6)
                }
            }
        }
    }

    @Test(arguments: frequencySets)
    func backwardMatchesFiniteDifferences(frequencies: RopeFrequencies) {
        let (n, heads, d) = (4, 2, frequencies.headDim)
        var rng = SplitMix64(seed: 41)
        let x = rng.floats(n * heads * d), w = rng.floats(n * heads * d)
        let positions: [Int32] = [3, 0, 1500, 9000]
        var dx = w
        ropeBackward(&dx, positions, frequencies, n: n, heads: heads)
        checkGradient("dx", x, analytic: dx) { x in
            var out = x
            ropeForward(&out, positions, frequencies, n: n, heads: heads)
            return weightedSum(w, out)
        }
        // Backward after forward restores the input: the rotation is orthogonal.
        var roundTrip = x
        ropeForward(&roundTrip, positions, frequencies, n: n, heads: heads)
        ropeBackward(&roundTrip, positions, frequencies, n: n, heads: heads)
        for i in 0..<x.count { #expect(abs(roundTrip[i] - x[i]) < 1e-6) }
    }
}
