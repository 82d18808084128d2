import Foundation
import FledgeTensor

/// The policy part of GRPO's per-token loss for each loss type (TRL's `per_token_loss` before the
/// entropy mask and the KL term). Shapes follow the importance-sampling level: `[rows, tokens]`
/// ratios for `token`, `[rows, 1]` for `sequence`; the result broadcasts to `[rows, tokens]`.
struct GRPOPolicyTerm {
    /// The per-token (or per-sequence) policy loss.
    let loss: Tensor
    /// The ratio the clip metrics read: r, capped at `delta` when it is set (as TRL reads it).
    let ratio: Tensor
    /// VESPO's sequence weights, `[rows]`, for its metric.
    let vespoWeights: [Float]?

    init(settings: GRPOLossSettings, logProbs: Tensor, logRatio: Tensor, ratio: Tensor, advantages: [Float],
         layout: TokenRows) {
        let advantageColumn = layout.column(advantages)
        var metricRatio = ratio
        var vespoWeights: [Float]? = nil
        switch settings.lossType {
        case .cispo:
            // −sg[min(r, ε_high)] · A · log π: ε_high is an absolute cap here.
            let weight = ratio.clamp(max: Float(settings.epsilonHigh)).detached()
            loss = -(weight * advantageColumn * logProbs)
        case .grpo, .bnpo, .drGRPO, .dapo, .luspo:
            // −min(r·A, clip(r, 1 − ε_low, 1 + ε_high)·A), with r capped at delta in the first branch.
            let clipped = ratio.clamp(min: Float(1 - settings.epsilonLow), max: Float(1 + settings.epsilonHigh))
            if let delta = settings.delta { metricRatio = ratio.clamp(max: Float(delta)) }
            loss = -Tensor.minimum(metricRatio * advantageColumn, clipped * advantageColumn)
        case .sapo:
            // −σ(τ(r − 1)) · 4/τ · A, τ chosen by the advantage's sign.
            let temperatures = layout.column(advantages.map {
                Float($0 > 0 ? settings.sapoTemperaturePositive : settings.sapoTemperatureNegative)
            })
            let gate = (temperatures * (ratio - 1)).sigmoid() * 4 / temperatures
            loss = -(gate * advantageColumn)
        case .vespo:
            // −φ(w) · A · log π with the Gamma weight φ of the sequence ratio w, detached.
            let weights = Self.gammaWeights(logRatio: logRatio.toArray(), layout: layout, advantages: advantages,
                                            parameters: settings.vespo)
            vespoWeights = weights
            loss = -(layout.column(weights) * advantageColumn * logProbs)
        }
        self.ratio = metricRatio
        self.vespoWeights = vespoWeights
    }

    /// TRL's `get_gamma_weights`: w = exp(Σ_t clamp(log r_t, ±20)) clamped to [1e-8, e^20],
    /// φ(w) = exp(λ + k·log w − λ·w), non-finite values as 0.
    static func gammaWeights(logRatio: [Float], layout: TokenRows, advantages: [Float],
                             parameters: VESPOParameters) -> [Float] {
        let floor = Float(Foundation.log(1e-8))
        let mask = layout.mask.toArray()
        return advantages.indices.map { row in
            var sum: Float = 0
            for column in 0..<layout.width {
                let cell = row * layout.width + column
                sum += Swift.min(Swift.max(logRatio[cell], -20), 20) * mask[cell]
            }
            let logWeight = Swift.min(Swift.max(sum, floor), 20)
            let nonNegative = advantages[row] >= 0
            let k = Float(nonNegative ? parameters.kPositive : parameters.kNegative)
            let lambda = Swift.max(Float(nonNegative ? parameters.lambdaPositive : parameters.lambdaNegative), 1e-4)
            let phi = Foundation.exp(lambda + k * logWeight - lambda * Foundation.exp(logWeight))
            return phi.isFinite ? phi : 0
        }
    }
}
