import Foundation
import FledgeTensor

/// The loss of one micro-batch of pairs and the metrics TRL logs for it.
public struct DPOLossResult {
    /// The scalar loss Σ_k w_k · mean over pairs of loss_k.
    public let loss: Tensor
    /// `rewards/chosen`, `rewards/rejected`, `rewards/accuracies`, `rewards/margins`,
    /// `logps/chosen`, `logps/rejected`, and `logits/chosen`, `logits/rejected` when the batch has
    /// mean logits.
    public let metrics: [String: Double]
}

/// DPO and its family of losses, computed as TRL's `DPOTrainer._compute_loss` does:
///
/// 1. each row's log-probability summed over its completion (LD-DPO: shared part plus α · tail);
/// 2. log-ratios to the reference, ρ = logp − logp_ref, for the chosen (ρ_c) and rejected (ρ_r)
///    completion of each pair;
/// 3. the f-divergence's scores s (ρ itself for reverse KL) and Δ = s_c − s_r;
/// 4. each loss type's per-pair loss (`DPOLossTerm`), times the WPO weights when `use_weighting`,
///    averaged over the pairs, weighted and summed.
public struct DPOLoss: Sendable {
    public let settings: DPOLossSettings

    public init(settings: DPOLossSettings) {
        self.settings = settings
    }

    /// The loss of a resolved config, for training.
    public init(config: DPOConfig) {
        self.init(settings: DPOLossSettings(config: config))
    }

    /// The loss and metrics of one micro-batch.
    public func compute(_ batch: DPOBatch) -> DPOLossResult {
        precondition(batch.counts.count % 2 == 0 && !batch.counts.isEmpty,
                     "DPO rows come in pairs (all chosen, then all rejected); got \(batch.counts.count) rows")
        let pairs = batch.pairCount
        precondition(batch.referenceChosen.count == pairs && batch.referenceRejected.count == pairs,
                     "\(batch.referenceChosen.count) and \(batch.referenceRejected.count) reference log-probs for \(pairs) pairs")
        let layout = TokenRows(counts: batch.counts)
        let sums = DPOSequenceLogProbs.sums(layout.grid(batch.logProbs), layout: layout, ldAlpha: settings.ldAlpha)
        let chosen = sums.slice(axis: 0, 0..<pairs), rejected = sums.slice(axis: 0, pairs..<(2 * pairs))
        let referenceChosen = Tensor(shape: [pairs], values: batch.referenceChosen)
        let referenceRejected = Tensor(shape: [pairs], values: batch.referenceRejected)
        let chosenRatio = chosen - referenceChosen, rejectedRatio = rejected - referenceRejected

        let term = DPOLossTerm(
            settings: settings, chosenRatio: chosenRatio, rejectedRatio: rejectedRatio,
            chosenScore: score(chosenRatio), rejectedScore: score(rejectedRatio),
            chosen: chosen, rejected: rejected, referenceChosen: batch.referenceChosen,
            referenceRejected: batch.referenceRejected, lengths: layout.clampedCounts.reshaped([2 * pairs]),
            chosenTokens: layout.grid(batch.logProbs).slice(axis: 0, 0..<pairs), chosenTokenCount: batch.counts[..<pairs].reduce(0, +))
        let weights = settings.useWeighting ? pairWeights(batch, layout: layout) : nil
        var loss: Tensor? = nil
        for (type, weight) in settings.losses {
            var perPair = term.loss(type)
            if let weights { perPair = perPair * weights }
            let weighted = perPair.mean() * Float(weight)
            loss = loss.map { $0 + weighted } ?? weighted
        }
        guard let loss else { preconditionFailure("DPO needs at least one loss type") }
        let metrics = DPOMetrics.metrics(beta: settings.beta, chosenRatio: chosenRatio.toArray(), rejectedRatio: rejectedRatio.toArray(),
                                         chosen: chosen.toArray(), rejected: rejected.toArray(),
                                         meanLogits: batch.meanLogits, counts: batch.counts)
        return DPOLossResult(loss: loss, metrics: metrics)
    }

    /// The f-divergence's score of each log-ratio: f′ of the density ratio, up to what the losses
    /// cancel (reverse KL: ρ; forward KL: 1 − e^−ρ; JS: log 2 + log σ(ρ); α: (e^{(α−1)ρ} − 1)/(α − 1)
    /// with the exponent clamped at 80, TRL's float32 limit).
    private func score(_ ratio: Tensor) -> Tensor {
        switch settings.fDivergenceType {
        case .reverseKL:
            return ratio
        case .forwardKL:
            return 1 - (-ratio).exp()
        case .jsDivergence:
            return Float(M_LN2) + ratio.logSigmoid()
        case .alphaDivergence:
            let alpha = settings.fAlphaDivergenceCoef
            if Swift.abs(alpha - 1) < 1e-6 { return ratio }
            return ((ratio * Float(alpha - 1)).clamp(max: 80).exp() - 1) * Float(1 / (alpha - 1))
        }
    }

    /// WPO's weight of each pair (no gradient): w_chosen · w_rejected with
    /// w = exp(mean over the completion of log p_t − log Σ_v p_v²).
    private func pairWeights(_ batch: DPOBatch, layout: TokenRows) -> Tensor {
        guard let squared = batch.logSumSquaredProbs else {
            preconditionFailure("use_weighting needs log Σ p² of every scored position (logSumSquaredProbs)")
        }
        let logProbs = batch.logProbs.toArray()
        var weights: [Float] = [], offset = 0
        for count in layout.counts {
            let aligned = (offset..<(offset + count)).reduce(Float(0)) { $0 + (logProbs[$1] - squared[$1]) }
            weights.append(Foundation.exp(aligned / Float(Swift.max(count, 1))))
            offset += count
        }
        let pairs = batch.pairCount
        return Tensor(shape: [pairs], values: (0..<pairs).map { weights[$0] * weights[pairs + $0] })
    }
}
