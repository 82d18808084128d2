import FledgeTensor

/// The loss of one PPO micro-batch and the statistics TRL averages into its metrics.
public struct PPOLossResult {
    /// pg_loss + vf_coef · vf_loss, a scalar.
    public let loss: Tensor
    /// `policy/approxkl_avg`, `policy/clipfrac_avg`, `loss/policy_avg`, `loss/value_avg`,
    /// `val/clipfrac_avg` and `val/ratio` of this micro-batch (TRL logs their means over the
    /// epochs and minibatches of an update).
    public let metrics: [String: Double]
}

/// PPO's clipped policy loss and clipped value loss, as TRL's `PPOTrainer.train` computes them
/// for a micro-batch:
///
/// - ratio r = exp(logp − logp_old); policy loss = masked mean over the response tokens of
///   max(−A·r, −A·clamp(r, 1 ± cliprange));
/// - value loss = ½ · masked mean up to one past the end of max((V − R)², (clamp(V, V_old ±
///   cliprange_value) − R)²).
public struct PPOLoss: Sendable {
    public let settings: PPOSettings

    public init(settings: PPOSettings) {
        self.settings = settings
    }

    /// The loss of the micro-batch `targets` (a selection of `PPOTargets.rows`) given the policy's
    /// current log-probabilities and the value model's predictions, `[rows, responseLength]`, both
    /// with autograd; their entries past each response's end are ignored.
    public func compute(logProbs: Tensor, valuePredictions: Tensor, targets: PPOTargets) -> PPOLossResult {
        let shape = [targets.sequenceLengths.count, targets.responseLength]
        precondition(logProbs.shape == shape && valuePredictions.shape == shape,
                     "PPO loss: log-probs \(logProbs.shape) and values \(valuePredictions.shape) for targets \(shape)")
        let padding = PPOPadding(responseLength: targets.responseLength, sequenceLengths: targets.sequenceLengths)
        let paddingMask = Tensor(shape: shape, values: padding.mask.map { $0 ? 1 : 0 })
        let paddingMaskPlusOne = Tensor(shape: shape, values: padding.maskPlusOne.map { $0 ? 1 : 0 })
        let keep = 1 - paddingMask, keepPlusOne = 1 - paddingMaskPlusOne
        let grid = { (values: [Float]) in Tensor(shape: shape, values: values) }

        let newLogProbs = logProbs.maskedFill(paddingMask, PPOTargets.invalidLogProb)
        let predictions = valuePredictions.maskedFill(paddingMaskPlusOne, 0)
        let oldValues = grid(targets.values), returns = grid(targets.returns)
        let clippedPredictions = Tensor.minimum(Tensor.maximum(predictions, oldValues - Float(settings.cliprangeValue)),
                                                oldValues + Float(settings.cliprangeValue))
        let valueLosses = (predictions - returns).square(), clippedValueLosses = (clippedPredictions - returns).square()
        let valueLoss = 0.5 * Self.maskedMean(Tensor.maximum(valueLosses, clippedValueLosses), keepPlusOne)

        let logRatio = newLogProbs - grid(targets.logProbs)
        let ratio = logRatio.exp()
        let advantages = grid(targets.advantages)
        let policyLosses = -advantages * ratio
        let clippedPolicyLosses = -advantages * ratio.clamp(min: Float(1 - settings.cliprange), max: Float(1 + settings.cliprange))
        let policyLoss = Self.maskedMean(Tensor.maximum(policyLosses, clippedPolicyLosses), keep)
        let loss = policyLoss + valueLoss * Float(settings.vfCoef)

        let metrics = Tensor.withoutGrad {
            [
                "policy/approxkl_avg": Double(0.5 * logRatio.square().mean().item()),
                "policy/clipfrac_avg": Self.fraction(clippedPolicyLosses, exceeding: policyLosses, where: padding.mask),
                "loss/policy_avg": Double(policyLoss.item()),
                "loss/value_avg": Double(valueLoss.item()),
                "val/clipfrac_avg": Self.fraction(clippedValueLosses, exceeding: valueLosses, where: padding.maskPlusOne),
                "val/ratio": Double(ratio.mean().item()),
            ]
        }
        return PPOLossResult(loss: loss, metrics: metrics)
    }

    /// Σ values · mask / Σ mask (TRL's `masked_mean`).
    private static func maskedMean(_ values: Tensor, _ mask: Tensor) -> Tensor {
        (values * mask).sum() / mask.sum()
    }

    /// The share of unpadded positions where `clipped` > `unclipped`.
    private static func fraction(_ clipped: Tensor, exceeding unclipped: Tensor, where padding: [Bool]) -> Double {
        let cells = zip(zip(clipped.toArray(), unclipped.toArray()), padding).filter { !$0.1 }
        return Double(cells.filter { $0.0.0 > $0.0.1 }.count) / Double(cells.count)
    }
}
