import Foundation

/// One Adam step's elementwise update, `torch.optim.AdamW`'s single-tensor formula with every
/// scalar computed in double precision and rounded to float32 as PyTorch rounds it:
///
///     p ← p · (1 − lr·wd)                          (decoupled decay, decayed parameters only)
///     m ← m.lerp(g, 1 − β₁)                        (m + w·(g − m), or g − (1 − w)·(g − m) for w ≥ ½)
///     v ← v·β₂ + (1 − β₂)·g·g
///     p ← p − (lr / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
///
/// The loop runs eight lanes at a time; a tail shorter than eight goes through the same lanes, so
/// every element gets the same arithmetic wherever it sits (and results do not depend on how the
/// elements are split between threads).
struct AdamUpdate {
    private typealias Lanes = SIMD8<Float>

    private let decay: Float?
    private let lerpCoefficient: Float
    private let lerpFromMoment: Bool
    private let beta2: Float
    private let squareWeight: Float
    private let biasCorrection2Root: Float
    private let epsilon: Float
    private let negativeStepSize: Float

    /// The scalars of step `step` (1-based, the step being taken) at `learningRate`; `decays`
    /// says whether this parameter takes weight decay.
    init(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double, decays: Bool, step: Int) {
        decay = decays && weightDecay != 0 ? Float(1 - learningRate * weightDecay) : nil
        let weight = Float(1 - beta1)
        lerpFromMoment = abs(weight) < 0.5
        lerpCoefficient = lerpFromMoment ? weight : weight - 1
        self.beta2 = Float(beta2)
        squareWeight = Float(1 - beta2)
        biasCorrection2Root = Float(Foundation.pow(1 - Foundation.pow(beta2, Double(step)), 0.5))  // Python's bc2 ** 0.5
        self.epsilon = Float(epsilon)
        negativeStepSize = Float(-(learningRate / (1 - Foundation.pow(beta1, Double(step)))))
    }

    /// Updates `count` elements of the parameter and its two moments in place from the gradient.
    func apply(
        parameter: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
        firstMoment: UnsafeMutablePointer<Float>, secondMoment: UnsafeMutablePointer<Float>, count: Int
    ) {
        for start in stride(from: 0, to: count, by: Lanes.scalarCount) {
            let lanes = min(Lanes.scalarCount, count - start)
            var p = Lanes(loading: parameter + start, count: lanes), m = Lanes(loading: firstMoment + start, count: lanes)
            var v = Lanes(loading: secondMoment + start, count: lanes)
            update(&p, gradient: Lanes(loading: gradient + start, count: lanes), &m, &v)
            p.store(to: parameter + start, count: lanes)
            m.store(to: firstMoment + start, count: lanes)
            v.store(to: secondMoment + start, count: lanes)
        }
    }

    @inline(__always)
    private func update(_ p: inout Lanes, gradient g: Lanes, _ m: inout Lanes, _ v: inout Lanes) {
        if let decay { p *= decay }
        m = (lerpFromMoment ? m : g) + lerpCoefficient * (g - m)
        v = v * beta2 + squareWeight * g * g
        let denominator = v.laneSquareRoot() / biasCorrection2Root + epsilon
        p = p + negativeStepSize * m / denominator
    }
}
