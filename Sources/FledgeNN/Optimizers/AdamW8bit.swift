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
public final class AdamW8bit: AdamW {
    /// Parameters with fewer elements keep float32 moments (bitsandbytes' `min_8bit_size`).
    public let minimumQuantizedCount: Int

    /// An optimizer for `parameters` (names must be unique) with bitsandbytes' defaults, except the
    /// weight decay, which is 0 as in `AdamW`.
    public init(
        parameters: [Parameter], beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
        minimumQuantizedCount: Int = 4096
    ) {
        self.minimumQuantizedCount = minimumQuantizedCount
        super.init(state: AdamState(
            optimizer: "AdamW8bit", parameters: parameters, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay
        ) { parameter in
            let count = parameter.tensor.count
            return count < minimumQuantizedCount ? AdamMoments(like: parameter) : QuantizedAdamMoments(count: count)
        })
    }
}
