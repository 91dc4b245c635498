import Foundation

/// Per-sample metrics and their aggregations, as lm-eval 0.4 computes them (`lm_eval/api/metrics.py`).
public enum Metrics {
    /// HF `evaluate` exact_match for one pair: regexes removed, then case folded, then ASCII punctuation removed.
    public static func exactMatch(_ prediction: String, _ reference: String, ignoreCase: Bool = false,
                                  ignorePunctuation: Bool = false, regexesToIgnore: [String] = []) -> Double {
        func clean(_ s: String) -> String {
            var s = s
            for pattern in regexesToIgnore {
                guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
                s = regex.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "")
            }
            if ignoreCase { s = s.lowercased() }
            if ignorePunctuation { s = String(s.unicodeScalars.filter { !asciiPunctuation.contains($0) }.map(Character.init)) }
            return s
        }
        return clean(prediction) == clean(reference) ? 1 : 0
    }

    /// Python's `string.punctuation`.
    static let asciiPunctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    /// SQuAD-style answer normalisation: lower case, punctuation and the articles a/an/the removed, whitespace split.
    static func normalizedTokens(_ s: String) -> [String] {
        let lowered = String(s.lowercased().unicodeScalars.filter { !asciiPunctuation.contains($0) }.map(Character.init))
        return lowered.split(whereSeparator: \.isWhitespace).map(String.init).filter { !["a", "an", "the"].contains($0) }
    }

    /// Token-level F1 between a prediction and a reference (SQuAD v1.1 `f1_score`), in [0, 1].
    public static func tokenF1(_ prediction: String, _ reference: String) -> Double {
        let p = normalizedTokens(prediction), r = normalizedTokens(reference)
        if p.isEmpty || r.isEmpty { return p == r ? 1 : 0 }
        var counts = [String: Int]()
        for t in r { counts[t, default: 0] += 1 }
        var common = 0
        for t in p where (counts[t] ?? 0) > 0 { common += 1; counts[t]! -= 1 }
        if common == 0 { return 0 }
        let precision = Double(common) / Double(p.count), recall = Double(common) / Double(r.count)
        return 2 * precision * recall / (precision + recall)
    }

    /// ROUGE-L F-measure (longest common subsequence of normalised tokens, β = 1), in [0, 1].
    public static func rougeL(_ prediction: String, _ reference: String) -> Double {
        let p = normalizedTokens(prediction), r = normalizedTokens(reference)
        if p.isEmpty || r.isEmpty { return p == r ? 1 : 0 }
        var previous = [Int](repeating: 0, count: r.count + 1), current = previous
        for i in 1...p.count {
            for j in 1...r.count {
                current[j] = p[i - 1] == r[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
            }
            swap(&previous, &current)
        }
        let lcs = Double(previous[r.count])
        if lcs == 0 { return 0 }
        let precision = lcs / Double(p.count), recall = lcs / Double(r.count)
        return 2 * precision * recall / (precision + recall)
    }

    /// Index of the first maximum, as `numpy.argmax`.
    static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// Words of a document as lm-eval counts them: `len(re.split(r"\s+", doc))`.
    public static func wordCount(_ text: String) -> Int {
        var count = 1, inSpace = false
        for scalar in text.unicodeScalars {
            let space = scalar.properties.isWhitespace
            if space && !inSpace { count += 1 }
            inSpace = space
        }
        return count
    }
}

/// How a metric's per-sample values become one number.
public enum Aggregation: String, Sendable {
    /// The mean of the values (acc, exact_match, …).
    case mean
    /// exp(−mean(log-likelihood)) (`perplexity` of loglikelihood tasks).
    case perplexity
    /// exp(−Σ log-likelihood / Σ weight), weights = words or bytes (`weighted_perplexity`).
    case weightedPerplexity = "weighted_perplexity"
    /// −Σ log-likelihood / Σ bytes / ln 2.
    case bitsPerByte = "bits_per_byte"
}

/// One metric's per-sample values for one filter, and their aggregate.
public struct MetricSamples: Sendable {
    public var name: String
    /// The filter name in result keys (`none` without a filter_list).
    public var filter: String
    public var aggregation: Aggregation
    /// Per-sample value (or log-likelihood for the perplexity family).
    public var values: [Double]
    /// Per-sample weight (words or bytes) for the weighted aggregations; empty otherwise.
    public var weights: [Double]

    /// The aggregate over the samples at `indices` (all samples when nil).
    public func aggregate(_ indices: [Int]? = nil) -> Double {
        let idx = indices ?? Array(values.indices)
        guard !idx.isEmpty else { return .nan }
        let total = idx.reduce(0.0) { $0 + values[$1] }
        switch aggregation {
        case .mean: return total / Double(idx.count)
        case .perplexity: return Foundation.exp(-total / Double(idx.count))
        case .weightedPerplexity: return Foundation.exp(-total / idx.reduce(0.0) { $0 + weights[$1] })
        case .bitsPerByte: return -total / idx.reduce(0.0) { $0 + weights[$1] } / Foundation.log(2)
        }
    }

    /// lm-eval's standard error: the sample standard deviation over √n for means; nil ("N/A") for the weighted
    /// aggregations; a seeded bootstrap for `perplexity` (lm-eval bootstraps it too, with its own generator).
    public func standardError(bootstrapIterations: Int = 1000, seed: UInt64 = 1234) -> Double? {
        let n = values.count
        switch aggregation {
        case .mean:
            guard n > 1 else { return nil }
            let mean = values.reduce(0, +) / Double(n)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            return (variance / Double(n)).squareRoot()
        case .perplexity: return Bootstrap.standardError(of: self, iterations: bootstrapIterations, seed: seed)
        case .weightedPerplexity, .bitsPerByte: return nil
        }
    }
}
