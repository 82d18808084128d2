import FledgeTensor

/// AdamW with its moments stored in 8 bits, as `bitsandbytes.optim.AdamW8bit` stores them:
/// blockwise dynamic quantization with 256 values per block, the signed dynamic map for the first
/// moment, the unsigned one for the second, and a float32 absmax per block. Each step dequantizes,
/// updates (the same update as `AdamW`) and requantizes. The moments take about 2 bytes per element
/// instead of AdamW's 8.
///
/// As in bitsandbytes (`min_8bit_size`), a parameter with fewer than `minimumQuantizedCount`
/// elements (4096 by default: biases, norms, small adapters) keeps float32 moments and is updated
/// exactly as `AdamW` updates it; quantizing it would save little and cost accuracy.
///
/// Requantization picks the nearest code, as bitsandbytes' CUDA and pure-PyTorch kernels do (its
/// native CPU kernel approximates this through a 65536-entry table). Saved as `exp_avg/<name>` and
/// `exp_avg_sq/<name>` (U8 codes, or F32 for unquantized parameters), `exp_avg_absmax/<name>` and
/// `exp_avg_sq_absmax/<name>` (F32 per block), and the step counts (see `StepCounts`).
public final class AdamW8bit: Optimizer {
    private let state: AdamState
    /// Parameters with fewer elements keep float32 moments (bitsandbytes' `min_8bit_size`).
    public let minimumQuantizedCount: Int

    /// An optimizer for `parameters` (names must be unique) with bitsandbytes' defaults, except the
    /// weight decay, which is 0 as in `AdamW`.
    public init(
        parameters: [Parameter], beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
        minimumQuantizedCount: Int = 4096
    ) {
        self.minimumQuantizedCount = minimumQuantizedCount
        state = AdamState(
            optimizer: "AdamW8bit", parameters: parameters, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay
        ) { parameter in
            let count = parameter.tensor.count
            return count < minimumQuantizedCount ? AdamMoments(like: parameter) : QuantizedAdamMoments(count: count)
        }
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
