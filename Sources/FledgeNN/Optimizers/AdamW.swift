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
///
/// `AdamW8bit` is this optimizer with quantized moments: it only chooses how `AdamState` stores them.
public class AdamW: Optimizer {
    private let state: AdamState

    /// An optimizer for `parameters` (names must be unique) with PyTorch's defaults.
    public init(parameters: [Parameter], beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
        state = AdamState(
            optimizer: "AdamW", parameters: parameters, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            storage: AdamMoments.init(like:))
    }

    /// An optimizer over `state`, whose moment storage a subclass chose.
    init(state: AdamState) {
        self.state = state
    }

    public var parameters: [Parameter] { state.parameters }
    /// The first moment's decay rate β₁.
    public var beta1: Double { state.beta1 }
    /// The second moment's decay rate β₂.
    public var beta2: Double { state.beta2 }
    /// ε, added to the bias-corrected √v.
    public var epsilon: Double { state.epsilon }
    /// The decoupled weight decay, applied to parameters whose `decays` is true.
    public var weightDecay: Double { state.weightDecay }
    public var stepCount: Int { state.steps.total }
    public var stateBytes: Int { state.byteCount }

    public func step(learningRate: Double) { state.step(learningRate: learningRate) }

    public func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)] { state.entries() }

    public func loadState(from file: SafeTensorsFile) throws { try state.load(from: file) }
}
