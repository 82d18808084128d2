import FledgeTensor

/// One micro-batch of scored completions, as GRPO's loss takes it: per-token values flat, in row
/// order (row 0's tokens, then row 1's, …), the layout `LanguageModel.sequenceLogProbs` returns.
///
/// A completion left out of the loss (a truncated one under `mask_truncated_completions`) has a
/// count of 0: it scores no tokens but is still a row (it counts in `dr_grpo`'s and `grpo`'s
/// number of rows, as in TRL).
public struct GRPOLossBatch {
    /// The current policy's log-probabilities of the completion tokens, `[total]`, with autograd.
    public var logProbs: Tensor
    /// Tokens of each completion in `logProbs`.
    public var counts: [Int]
    /// One advantage per completion.
    public var advantages: [Float]
    /// The log-probabilities of the policy that sampled the batch, `[total]`; nil when training is
    /// on-policy (the ratio is then exactly 1, TRL's `per_token_logps.detach()`).
    public var oldLogProbs: [Float]?
    /// The reference policy's log-probabilities, `[total]`; required when `beta` is not 0.
    public var referenceLogProbs: [Float]?
    /// The entropy of each scored position, `[total]`, with autograd when the model computed it so;
    /// required for `top_entropy_quantile` < 1 and for the entropy bonus (`entropy_coef`), whose
    /// gradient flows through it. The `entropy` metric is their mean, so when zero-signal rows were
    /// skipped (never under `top_entropy_quantile` < 1 or an entropy bonus) they may be those of the
    /// rows that were run only.
    public var entropies: Tensor?
    /// Loss-masked tokens of the whole generation batch (TRL's `num_items_in_batch`): the
    /// normaliser of `dapo`, `cispo` and `vespo`.
    public var generationBatchTokens: Int

    public init(logProbs: Tensor, counts: [Int], advantages: [Float], oldLogProbs: [Float]? = nil,
                referenceLogProbs: [Float]? = nil, entropies: Tensor? = nil, generationBatchTokens: Int) {
        self.logProbs = logProbs
        self.counts = counts
        self.advantages = advantages
        self.oldLogProbs = oldLogProbs
        self.referenceLogProbs = referenceLogProbs
        self.entropies = entropies
        self.generationBatchTokens = generationBatchTokens
    }

    /// A batch from `sequenceLogProbs` output (its entropies are used when it has them).
    public init(_ scored: SequenceLogProbs, advantages: [Float], oldLogProbs: [Float]? = nil,
                referenceLogProbs: [Float]? = nil, generationBatchTokens: Int) {
        self.init(logProbs: scored.logProbs, counts: scored.counts, advantages: advantages, oldLogProbs: oldLogProbs,
                  referenceLogProbs: referenceLogProbs, entropies: scored.entropy,
                  generationBatchTokens: generationBatchTokens)
    }
}

/// The loss of one micro-batch and the metrics TRL logs for it.
public struct GRPOLossResult {
    /// The scalar loss, already scaled for gradient accumulation (do not divide it again).
    public let loss: Tensor
    /// `kl` (when beta ≠ 0), `entropy` (when entropies are given), `policy_loss` and `entropy_coef`
    /// (with an entropy bonus), `clip_ratio/low_mean`,
    /// `clip_ratio/high_mean`, `clip_ratio/region_mean`, `clip_ratio/low_min`, `clip_ratio/high_max`
    /// (clipping losses), `cispo_clip_ratio` (cispo), `vespo/phi_seq_mean` (vespo).
    public let metrics: [String: Double]
    /// With an entropy bonus: the sum of the entropies of the tokens the policy term keeps, and their
    /// number — what adaptive entropy control measures over an optimizer step.
    public var entropyWindow: (sum: Double, tokens: Double)? = nil
}

/// GRPO's loss and its variants, computed as TRL's `GRPOTrainer._compute_loss` does, on a padded
/// `[rows, tokens]` view of the flat per-token log-probabilities:
///
/// 1. the log-ratio to the sampling policy, per token or as each sequence's mean (GSPO), and its
///    exponential, the ratio r;
/// 2. with `beta` ≠ 0, the k3 KL estimate exp(ref − logp) − (ref − logp) − 1 (times r when
///    `use_bias_correction_kl`);
/// 3. the policy term of the loss type (`GRPOPolicyTerm`), without the negative-advantage completions
///    that drifted off-policy when `off_policy_mask_threshold` is set (`OffPolicySequenceMask`), kept only
///    on the highest-entropy tokens when `top_entropy_quantile` < 1, plus `beta` · KL;
/// 4. the loss type's aggregation over the masked tokens, with TRL's gradient-accumulation scaling;
/// 5. with `entropy_coef` ≠ 0 (or adaptive entropy control), minus the coefficient × the mean entropy
///    over the tokens the policy term keeps (divided by the accumulation steps only, whatever the loss
///    type, as TRL does).
public struct GRPOLoss: Sendable {
    public let settings: GRPOLossSettings

    public init(settings: GRPOLossSettings) {
        self.settings = settings
    }

    /// The loss of a resolved config, for training.
    public init(config: GRPOConfig) {
        self.init(settings: GRPOLossSettings(config: config))
    }

    /// The loss and metrics of one micro-batch, with the entropy bonus weighted by `entropyCoefficient`
    /// (by default the settings' `entropy_coef`; adaptive control passes the coefficient of the step).
    public func compute(_ batch: GRPOLossBatch, entropyCoefficient: Double? = nil) -> GRPOLossResult {
        let layout = TokenRows(counts: batch.counts)
        precondition(batch.advantages.count == layout.rows, "\(batch.advantages.count) advantages for \(layout.rows) completions")
        let logProbs = layout.grid(batch.logProbs)
        let old = batch.oldLogProbs.map { layout.grid($0) } ?? logProbs.detached()
        let advantages = layout.column(batch.advantages)

        let logRatio = logProbs - old
        let logWeights = settings.importanceSamplingLevel == .token
            ? logRatio : (logRatio * layout.mask).sum(axis: 1, keepDims: true) / layout.clampedCounts
        let ratio = logWeights.exp()

        var kl: Tensor? = nil
        if settings.beta != 0 {
            guard let reference = batch.referenceLogProbs else {
                preconditionFailure("beta = \(settings.beta) needs the reference policy's log-probabilities")
            }
            let difference = layout.grid(reference) - logProbs
            let estimate = difference.exp() - difference - 1
            kl = settings.useBiasCorrectionKL ? estimate * ratio : estimate
        }

        let term = GRPOPolicyTerm(settings: settings, logProbs: logProbs, logRatio: logRatio, ratio: ratio,
                                  advantages: batch.advantages, layout: layout)
        // A micro-batch whose every row is out of the loss scores no token, so it has no entropies to give.
        let entropies = batch.entropies ?? (layout.total == 0 ? Tensor.zeros([0]) : nil)
        let entropyValues = entropies?.toArray()
        var perToken = term.loss
        if let threshold = settings.offPolicyMaskThreshold {
            perToken = perToken * OffPolicySequenceMask.mask(
                sampling: batch.oldLogProbs ?? batch.logProbs.toArray(), current: batch.logProbs.toArray(),
                advantages: batch.advantages, layout: layout, threshold: threshold)
        }
        var keptTokens = layout.mask
        if settings.topEntropyQuantile < 1 {
            guard let entropyValues else {
                preconditionFailure("top_entropy_quantile < 1 needs the entropy of every scored position")
            }
            let highEntropy = HighEntropyMask.mask(entropyValues, layout: layout, keeping: settings.topEntropyQuantile)
            perToken = perToken * highEntropy
            keptTokens = keptTokens * highEntropy
        }
        if let kl { perToken = perToken + kl * Float(settings.beta) }

        let policyLoss = aggregate(perToken, layout: layout, generationBatchTokens: batch.generationBatchTokens)
        var metrics = GRPOLossMetrics(layout: layout, advantages: advantages.toArray())
            .metrics(settings: settings, term: term, kl: kl, entropies: entropyValues)
        guard settings.hasEntropyBonus else { return GRPOLossResult(loss: policyLoss, metrics: metrics) }
        guard let entropies else { preconditionFailure("an entropy bonus needs the entropy of every scored position") }
        let coefficient = entropyCoefficient ?? settings.entropyCoefficient
        let accumulation = Float(settings.gradientAccumulationSteps)
        let keptEntropies = layout.grid(entropies) * keptTokens
        let keptCount = keptTokens.sum().item()
        let meanEntropy = keptEntropies.sum() / Swift.max(keptCount, 1) / accumulation
        metrics["policy_loss"] = Double(policyLoss.item()) * (settings.lossType.normalizesItself ? 1 : Double(accumulation))
        metrics["entropy_coef"] = coefficient
        var result = GRPOLossResult(loss: policyLoss - meanEntropy * Float(coefficient), metrics: metrics)
        result.entropyWindow = (Double(keptEntropies.detached().sum().item()), Double(keptCount))
        return result
    }

    /// TRL's aggregation of the per-token loss over the masked tokens, with its accumulation scaling.
    private func aggregate(_ perToken: Tensor, layout: TokenRows, generationBatchTokens: Int) -> Tensor {
        let masked = perToken * layout.mask
        let accumulation = Float(settings.gradientAccumulationSteps)
        switch settings.lossType {
        case .grpo, .sapo:
            return (masked.sum(axis: 1, keepDims: true) / layout.clampedCounts).mean() / accumulation
        case .bnpo:
            return masked.sum() / Float(Swift.max(layout.total, 1)) / accumulation
        case .drGRPO:
            return masked.sum() / Float(layout.rows * settings.maxCompletionLength) / accumulation
        case .dapo, .cispo, .vespo:
            // The generation batch's tokens per process, rescaled to one accumulation window.
            let tokens = Float(Swift.max(generationBatchTokens, 1)) / Float(settings.processCount)
            return masked.sum() / (tokens * accumulation / Float(settings.stepsPerGeneration))
        case .luspo:
            return masked.sum(axis: 1).mean() / accumulation
        }
    }
}
