import Foundation

/// AdamW exactly as `torch.optim.AdamW` (single-tensor path, fp32): decoupled weight decay applied first,
/// then bias-corrected moments. Moments share the parameters' flat layout.
public struct AdamW: Sendable {
    public struct Hyperparameters: Sendable, Equatable {
        // Doubles, as the Python floats torch receives; each is rounded to fp32 where torch does.
        public var beta1 = 0.9
        public var beta2 = 0.999
        public var epsilon = 1e-8
        public var weightDecay = 0.0
        public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let hyper: Hyperparameters
    /// First moments (exp_avg).
    public internal(set) var m: [Float]
    /// Second moments (exp_avg_sq).
    public internal(set) var v: [Float]
    /// Optimizer steps taken (torch's `state["step"]`).
    public internal(set) var step: Int = 0

    public init(count: Int, hyper: Hyperparameters) {
        self.hyper = hyper
        m = [Float](repeating: 0, count: count)
        v = [Float](repeating: 0, count: count)
    }

    /// Restores saved state (a checkpoint).
    public init(hyper: Hyperparameters, m: [Float], v: [Float], step: Int) {
        precondition(m.count == v.count)
        self.hyper = hyper
        self.m = m
        self.v = v
        self.step = step
    }

    /// One update of `parameters` with `gradients` at learning rate `lr`.
    public mutating func update(_ parameters: inout [Float], gradients: [Float], lr: Double) {
        precondition(parameters.count == m.count && gradients.count == m.count)
        step += 1
        // torch computes these scalars in Python floats (double) and applies them to fp32 tensors.
        let correction1 = 1 - pow(hyper.beta1, Double(step))
        let correction2Sqrt = Float((1 - pow(hyper.beta2, Double(step))).squareRoot())
        let stepSize = Float(lr / correction1)
        let decay = Float(1 - lr * hyper.weightDecay)
        let (oneMinusB1, b2, oneMinusB2) = (Float(1 - hyper.beta1), Float(hyper.beta2), Float(1 - hyper.beta2))
        let eps = Float(hyper.epsilon)
        for i in 0..<parameters.count {
            let g = gradients[i]
            parameters[i] *= decay
            m[i] += oneMinusB1 * (g - m[i])           // torch: exp_avg.lerp_(grad, 1 - beta1)
            v[i] = v[i] * b2 + oneMinusB2 * g * g     // torch: exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            let denominator = v[i].squareRoot() / correction2Sqrt + eps
            parameters[i] -= stepSize * (m[i] / denominator)
        }
    }
}

/// Scales `gradients` so their global L2 norm is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`
/// (coefficient maxNorm / (norm + 1e-6), clamped to 1). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [Float], maxNorm: Float) -> Float {
    var sum = 0.0
    for g in gradients { sum += Double(g) * Double(g) }
    let norm = Float(sum.squareRoot())
    let coefficient = min(maxNorm / (norm + 1e-6), 1)
    if coefficient < 1 { for i in gradients.indices { gradients[i] *= coefficient } }
    return norm
}
