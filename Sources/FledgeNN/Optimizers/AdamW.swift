import FledgeTensor

/// Adam with decoupled weight decay, computing exactly what `torch.optim.AdamW` computes on the CPU
/// (its single-tensor path; the fused CPU kernel has the same formula):
///
///     p ← p·(1 − lr·wd)                      for parameters that `decays`
///     m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²
///     p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)
///
/// with t the parameter's own step count. State is float32, 8 bytes per parameter element,
/// saved as `exp_avg/<name>`, `exp_avg_sq/<name>` and the step counts (see `StepCounts`).
/// See `AdamUpdate` for the exact float32 operation order.
public final class AdamW: Optimizer {
    public let parameters: [Parameter]
    /// The first moment's decay rate β₁.
    public let beta1: Double
    /// The second moment's decay rate β₂.
    public let beta2: Double
    /// ε, added to the bias-corrected √v.
    public let epsilon: Double
    /// The decoupled weight decay, applied to parameters whose `decays` is true.
    public let weightDecay: Double

    private var steps: StepCounts
    private let moments: [AdamMoments]

    /// An optimizer for `parameters` (names must be unique) with PyTorch's defaults.
    public init(parameters: [Parameter], beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        Parameter.requireUniqueNames(parameters, optimizer: "AdamW")
        self.parameters = parameters
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        steps = StepCounts(parameterCount: parameters.count)
        moments = parameters.map(AdamMoments.init(like:))
    }

    public var stepCount: Int { steps.total }

    public var stateBytes: Int { moments.reduce(0) { $0 + $1.byteCount } }

    public func step(learningRate: Double) {
        let updates = AdamUpdate.forStep(
            of: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            steps: &steps)
        ParallelChunks.forEach(counts: updates.map { parameters[$0.index].tensor.count }) { item, elements in
            let (index, gradient, update) = updates[item]
            moments[index].step(parameters[index], gradient: gradient, update, elements: elements)
        }
    }

    public func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        steps.entries(parameters) + zip(parameters, moments).flatMap { $1.entries(for: $0) }
    }

    public func loadState(from file: SafeTensorsFile) throws {
        let reader = OptimizerStateReader(file: file)
        let counts = try StepCounts.read(from: reader, parameters)
        let restores = try zip(parameters, moments).map { parameter, moments in
            try moments.read(for: parameter, from: reader, owner: "parameter '\(parameter.name)'")
        }
        for restore in restores { restore() }
        steps = counts
    }
}
