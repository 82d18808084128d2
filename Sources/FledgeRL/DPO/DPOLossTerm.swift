import Foundation
import FledgeTensor

/// The per-pair loss of each of TRL's DPO loss types (`DPOTrainer._compute_loss`, TRL 1.16), from
/// the pairs' log-ratios ρ and f-divergence scores s, with β, ε = `label_smoothing` and
/// Δ = s_c − s_r.
struct DPOLossTerm {
    let settings: DPOLossSettings
    /// ρ_c and ρ_r, `[n]`.
    let chosenRatio: Tensor
    let rejectedRatio: Tensor
    /// s_c and s_r, `[n]`.
    let chosenScore: Tensor
    let rejectedScore: Tensor
    /// The policy's sequence log-probabilities, `[n]` each, and the reference's.
    let chosen: Tensor
    let rejected: Tensor
    let referenceChosen: [Float]
    let referenceRejected: [Float]
    /// Completion tokens of each row (at least 1), chosen rows first, `[2n]`.
    let lengths: Tensor
    /// The chosen rows' per-token log-probabilities, `[n, width]`, zeros past each row's end.
    let chosenTokens: Tensor
    let chosenTokenCount: Int

    private var beta: Float { Float(settings.beta) }
    private var smoothing: Float { Float(settings.labelSmoothing) }
    private var pairs: Int { chosen.count }
    private var delta: Tensor { chosenScore - rejectedScore }

    /// The loss of each pair under `type`, `[n]`.
    func loss(_ type: DPOLossType) -> Tensor {
        switch type {
        case .sigmoid:
            return -(delta * beta).logSigmoid()
        case .hinge:
            return (1 - delta * beta).relu()
        case .ipo:
            // Length-normalised: the scores per completion token.
            return (lengthNormalizedDelta - 1 / (2 * beta)).square()
        case .exoPair:
            let logits = delta * beta
            let (logChosenTarget, logRejectedTarget) = (Float(log1p(-settings.labelSmoothing)), Float(log(settings.labelSmoothing)))
            return logits.sigmoid() * (logits.logSigmoid() - logChosenTarget)
                + (-logits).sigmoid() * ((-logits).logSigmoid() - logRejectedTarget)
        case .ncaPair:
            let (chosenReward, rejectedReward) = (chosenRatio * beta, rejectedRatio * beta)
            return -chosenReward.logSigmoid() - 0.5 * (-chosenReward).logSigmoid() - 0.5 * (-rejectedReward).logSigmoid()
        case .robust:
            let logits = delta * beta
            return (-(1 - smoothing) * logits.logSigmoid() + smoothing * (-logits).logSigmoid()) / (1 - 2 * smoothing)
        case .bcoPair:
            return -(chosenRatio * beta).logSigmoid() - (-(rejectedRatio * beta)).logSigmoid()
        case .sppoHard:
            return (chosenRatio - 0.5 / beta).square() + (rejectedRatio + 0.5 / beta).square()
        case .aot:
            let policy = Self.sorted(chosen - rejected)
            let reference = zip(referenceChosen, referenceRejected).map { $0 - $1 }.sorted()
            return smoothedSigmoid((policy - Tensor(shape: [pairs], values: reference)) * beta)
        case .aotUnpaired:
            return smoothedSigmoid((Self.sorted(chosenRatio) - Self.sorted(rejectedRatio)) * beta)
        case .apoZero:
            return (1 - (chosenRatio * beta).sigmoid()) + (rejectedRatio * beta).sigmoid()
        case .apoDown:
            return (chosenRatio * beta).sigmoid() + (1 - ((chosenRatio - rejectedRatio) * beta).sigmoid())
        case .discopop:
            let logits = delta * beta
            let modulation = (logits / Float(settings.discopopTau)).sigmoid()
            return -logits.logSigmoid() * (1 - modulation) + (-logits).exp() * modulation
        case .sft:
            // The mean negative log-likelihood of the chosen tokens, the same for every pair.
            let nll = -chosenTokens.sum() / Float(chosenTokenCount)
            return nll.reshaped([1]).expanded(to: [pairs])
        case .sigmoidNorm:
            return -(lengthNormalizedDelta * beta).logSigmoid()
        }
    }

    /// s_c / len_c − s_r / len_r.
    private var lengthNormalizedDelta: Tensor {
        chosenScore / lengths.slice(axis: 0, 0..<pairs) - rejectedScore / lengths.slice(axis: 0, pairs..<(2 * pairs))
    }

    /// −(1 − ε) log σ(x) − ε log σ(−x), the label-smoothed (conservative) DPO loss of the AOT losses.
    private func smoothedSigmoid(_ logits: Tensor) -> Tensor {
        -logits.logSigmoid() * (1 - smoothing) - (-logits).logSigmoid() * smoothing
    }

    /// `values` in ascending order (over the batch, as `torch.sort`); gradients follow the values.
    private static func sorted(_ values: Tensor) -> Tensor {
        let elements = values.toArray()
        let order = elements.indices.sorted { (elements[$0], $0) < (elements[$1], $1) }
        return values.indexSelect(order, indexShape: [order.count])
    }
}
