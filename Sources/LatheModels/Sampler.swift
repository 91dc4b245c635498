import Foundation
import LatheSupport

/// How the next token is chosen from logits, as in transformers' `generate`: repetition penalty, temperature,
/// top-k, then top-p (nucleus). Temperature 0 is greedy (argmax).
public struct SamplingParameters: Sendable, Equatable {
    public var temperature: Float = 0
    /// Keep only the k most likely tokens; 0 keeps all.
    public var topK: Int = 0
    /// Keep the smallest set of tokens whose probability reaches p; 1 keeps all.
    public var topP: Float = 1
    /// HF `RepetitionPenaltyLogitsProcessor`: logits of seen tokens are divided (if > 0) or multiplied (if < 0) by it.
    public var repetitionPenalty: Float = 1
    public var seed: UInt64 = 0

    public init(temperature: Float = 0, topK: Int = 0, topP: Float = 1, repetitionPenalty: Float = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.repetitionPenalty = repetitionPenalty
        self.seed = seed
    }
}

/// Picks tokens from logits with `SamplingParameters`; seeded, so a run is reproducible.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var random: SplitMix64

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        self.random = SplitMix64(seed: parameters.seed)
    }

    /// The next token given `logits` (V) and the tokens so far (for the repetition penalty).
    public mutating func next(logits: [Float], history: [Int32]) -> Int32 {
        var scores = logits
        if parameters.repetitionPenalty != 1 {
            for token in Set(history) where Int(token) < scores.count {
                let s = scores[Int(token)]
                scores[Int(token)] = s > 0 ? s / parameters.repetitionPenalty : s * parameters.repetitionPenalty
            }
        }
        if parameters.temperature <= 0 { return Int32(argmax(scores)) }
        var candidates = scores.indices.map { (token: $0, score: scores[$0] / parameters.temperature) }
        candidates.sort { $0.score > $1.score || ($0.score == $1.score && $0.token < $1.token) }
        if parameters.topK > 0 { candidates.removeSubrange(min(parameters.topK, candidates.count)...) }
        let top = candidates[0].score
        var probabilities = candidates.map { exp($0.score - top) }
        let total = probabilities.reduce(0, +)
        for i in probabilities.indices { probabilities[i] /= total }
        if parameters.topP < 1 {
            var cumulative: Float = 0
            var keep = probabilities.count
            for (i, p) in probabilities.enumerated() {
                cumulative += p
                if cumulative >= parameters.topP { keep = i + 1; break }
            }
            probabilities.removeSubrange(keep...)
        }
        let mass = probabilities.reduce(0, +)
        var draw = Float(random.nextUnit()) * mass
        for (i, p) in probabilities.enumerated() {
            draw -= p
            if draw <= 0 { return Int32(candidates[i].token) }
        }
        return Int32(candidates[probabilities.count - 1].token)
    }
}

/// Index of the largest value; the first one on ties, as `torch.argmax`.
func argmax(_ values: [Float]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}
