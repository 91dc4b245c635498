import Foundation

/// Learning-rate schedules with linear warmup, as transformers' `get_*_schedule_with_warmup` (LambdaLR):
/// optimizer step `t` (0-based) uses `baseLR × factor(t)`, so with warmup the first step's rate is 0.
public struct LearningRateSchedule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case constant, linear, cosine
    }

    public var kind: Kind
    public var baseLR: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(kind: Kind, baseLR: Double, warmupSteps: Int, totalSteps: Int) {
        self.kind = kind
        self.baseLR = baseLR
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate of optimizer step `t` (0-based).
    public func learningRate(step t: Int) -> Double {
        baseLR * factor(t)
    }

    private func factor(_ t: Int) -> Double {
        if t < warmupSteps { return Double(t) / Double(max(1, warmupSteps)) }
        switch kind {
        case .constant:
            return 1
        case .linear:
            return max(0, Double(totalSteps - t) / Double(max(1, totalSteps - warmupSteps)))
        case .cosine:
            let progress = Double(t - warmupSteps) / Double(max(1, totalSteps - warmupSteps))
            return max(0, 0.5 * (1 + cos(Double.pi * 0.5 * 2 * progress)))
        }
    }
}
