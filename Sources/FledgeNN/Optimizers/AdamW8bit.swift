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
    public let parameters: [Parameter]
    /// The first moment's decay rate β₁.
    public let beta1: Double
    /// The second moment's decay rate β₂.
    public let beta2: Double
    /// ε, added to the bias-corrected √v.
    public let epsilon: Double
    /// The decoupled weight decay, applied to parameters whose `decays` is true.
    public let weightDecay: Double
    /// Parameters with fewer elements keep float32 moments (bitsandbytes' `min_8bit_size`).
    public let minimumQuantizedCount: Int

    private enum Moments {
        case full(AdamMoments)
        case quantized(QuantizedAdamMoments)
    }

    private var steps: StepCounts
    private let moments: [Moments]

    /// An optimizer for `parameters` (names must be unique) with bitsandbytes' defaults, except the
    /// weight decay, which is 0 as in `AdamW`.
    public init(
        parameters: [Parameter], beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
        minimumQuantizedCount: Int = 4096
    ) {
        Parameter.requireUniqueNames(parameters, optimizer: "AdamW8bit")
        self.parameters = parameters
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.minimumQuantizedCount = minimumQuantizedCount
        steps = StepCounts(parameterCount: parameters.count)
        moments = parameters.map { parameter in
            let count = parameter.tensor.count
            return count < minimumQuantizedCount ? .full(AdamMoments(like: parameter)) : .quantized(QuantizedAdamMoments(count: count))
        }
    }

    public var stepCount: Int { steps.total }

    public var stateBytes: Int {
        moments.reduce(0) { total, moments in
            switch moments {
            case .full(let full): total + full.byteCount
            case .quantized(let quantized): total + quantized.byteCount
            }
        }
    }

    public func step(learningRate: Double) {
        let updates = AdamUpdate.forStep(
            of: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
            steps: &steps)
        ParallelChunks.forEach(counts: updates.map { parameters[$0.index].tensor.count }) { item, elements in
            let (index, gradient, update) = updates[item]
            switch moments[index] {
            case .full(let full): full.step(parameters[index], gradient: gradient, update, elements: elements)
            case .quantized(let quantized): quantized.step(parameters[index], gradient: gradient, update, elements: elements)
            }
        }
    }

    public func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        steps.entries(parameters) + zip(parameters, moments).flatMap { parameter, moments in
            switch moments {
            case .full(let full): full.entries(for: parameter)
            case .quantized(let quantized): quantized.entries(for: parameter)
            }
        }
    }

    public func loadState(from file: SafeTensorsFile) throws {
        let reader = OptimizerStateReader(file: file)
        let counts = try StepCounts.read(from: reader, parameters)
        let restores = try zip(parameters, moments).map { parameter, moments in
            switch moments {
            case .full(let full):
                let owner = "parameter '\(parameter.name)' (\(parameter.tensor.count) elements, fewer than "
                    + "\(minimumQuantizedCount), so with float32 state)"
                return try full.read(for: parameter, from: reader, owner: owner)
            case .quantized(let quantized):
                return try quantized.read(for: parameter, from: reader, owner: "parameter '\(parameter.name)' (8-bit state)")
            }
        }
        for restore in restores { restore() }
        steps = counts
    }
}
