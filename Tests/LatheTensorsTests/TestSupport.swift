import LatheSupport
import Testing
@testable import LatheTensors

/// Test data from Lathe's one generator.
extension SplitMix64 {
    /// Uniform in [lower, upper).
    mutating func uniform(_ lower: Float = -1, _ upper: Float = 1) -> Float {
        lower + Float(nextUnit()) * (upper - lower)
    }

    /// `count` uniform values in [lower, upper).
    mutating func floats(_ count: Int, _ lower: Float = -1, _ upper: Float = 1) -> [Float] {
        (0..<count).map { _ in uniform(lower, upper) }
    }

    /// Uniform integer in 0..<bound.
    mutating func int(_ bound: Int) -> Int { below(bound) }
}

/// `Σ w[i]·y[i]` accumulated in Double: the scalar loss every finite-difference check differentiates.
func weightedSum(_ w: [Float], _ y: [Float]) -> Double {
    precondition(w.count == y.count)
    var sum = 0.0
    for i in 0..<w.count { sum += Double(w[i]) * Double(y[i]) }
    return sum
}

/// Finite-difference step and tolerance used by every gradient test: fp32 forward, loss summed in Double,
/// central difference with h = 1e-2, pass when |numeric − analytic| ≤ 1e-3 + 1e-3·|numeric| (observed worst: 1e-4).
let finiteDifferenceStep: Float = 1e-2
let gradientTolerance = 1e-3

/// Compares `analytic` with central differences (L(x+h) − L(x−h)) / 2h of `loss` for the elements of
/// `input` at `indices` (all by default); records one expectation per mismatch and returns the worst error.
@discardableResult
func checkGradient(_ name: String, _ input: [Float], analytic: [Float], indices: [Int]? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation,
                   loss: ([Float]) -> Double) -> Double {
    precondition(input.count == analytic.count, "\(name): \(input.count) inputs, \(analytic.count) gradients")
    var x = input
    var worst = 0.0
    var failures = 0
    for i in indices ?? Array(0..<input.count) {
        let original = x[i]
        x[i] = original + finiteDifferenceStep
        let plus = loss(x)
        x[i] = original - finiteDifferenceStep
        let minus = loss(x)
        x[i] = original
        let numeric = (plus - minus) / (2 * Double(finiteDifferenceStep))
        let error = abs(numeric - Double(analytic[i]))
        worst = max(worst, error)
        if error > gradientTolerance + gradientTolerance * abs(numeric) {
            failures += 1
            if failures <= 5 {
                Issue.record("\(name)[\(i)]: numeric \(numeric) vs analytic \(analytic[i])", sourceLocation: sourceLocation)
            }
        }
    }
    return worst
}

/// For large inputs: compares ⟨analytic, u⟩ with (L(x+hu) − L(x−hu)) / 2h along `directions` random unit-scale
/// directions u (entries uniform in [−1, 1)), same step and tolerance as `checkGradient`.
@discardableResult
func checkDirectionalDerivatives(_ name: String, _ input: [Float], analytic: [Float], directions: Int = 3,
                                 rng: inout SplitMix64, sourceLocation: SourceLocation = #_sourceLocation,
                                 loss: ([Float]) -> Double) -> Double {
    precondition(input.count == analytic.count, "\(name): \(input.count) inputs, \(analytic.count) gradients")
    var worst = 0.0
    for direction in 0..<directions {
        let u = rng.floats(input.count)
        let h = finiteDifferenceStep
        let plus = loss((0..<input.count).map { input[$0] + h * u[$0] })
        let minus = loss((0..<input.count).map { input[$0] - h * u[$0] })
        let numeric = (plus - minus) / (2 * Double(h))
        let projected = weightedSum(u, analytic)
        let error = abs(numeric - projected)
        worst = max(worst, error)
        if error > gradientTolerance + gradientTolerance * abs(numeric) {
            Issue.record("\(name) direction \(direction): numeric \(numeric) vs analytic \(projected)",
                         sourceLocation: sourceLocation)
        }
    }
    return worst
}
