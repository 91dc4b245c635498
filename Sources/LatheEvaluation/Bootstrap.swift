import Foundation
import LatheSupport

/// Seeded bootstrap resampling over documents, for standard errors of aggregates and of base-vs-adapter deltas.
///
/// The generator is SplitMix64, so a given seed gives the same resamples on every machine. The paired bootstrap
/// resamples document indices once per iteration and applies them to both runs, so the per-document correlation
/// between base and adapter is kept (the delta's error is much smaller than either run's).
public enum Bootstrap {
    /// Standard deviation of `statistic` over `iterations` resamples (with replacement) of `count` documents.
    public static func standardError(count: Int, iterations: Int = 1000, seed: UInt64 = 1234,
                                     statistic: ([Int]) -> Double) -> Double? {
        guard count > 1, iterations > 1 else { return nil }
        var generator = SplitMix64(seed: seed)
        var estimates = [Double]()
        estimates.reserveCapacity(iterations)
        var sample = [Int](repeating: 0, count: count)
        for _ in 0..<iterations {
            for i in 0..<count { sample[i] = generator.below(count) }
            let value = statistic(sample)
            if value.isFinite { estimates.append(value) }
        }
        guard estimates.count > 1 else { return nil }
        let mean = estimates.reduce(0, +) / Double(estimates.count)
        let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(estimates.count - 1)
        return variance.squareRoot()
    }

    /// Bootstrap standard error of one metric's aggregate.
    public static func standardError(of metric: MetricSamples, iterations: Int = 1000, seed: UInt64 = 1234) -> Double? {
        standardError(count: metric.values.count, iterations: iterations, seed: seed) { metric.aggregate($0) }
    }

    /// Paired bootstrap standard error of `adapted.aggregate − base.aggregate` over the same documents.
    public static func pairedDeltaError(base: MetricSamples, adapted: MetricSamples, iterations: Int = 1000,
                                        seed: UInt64 = 1234) -> Double? {
        guard base.values.count == adapted.values.count else { return nil }
        return standardError(count: base.values.count, iterations: iterations, seed: seed) {
            adapted.aggregate($0) - base.aggregate($0)
        }
    }
}
