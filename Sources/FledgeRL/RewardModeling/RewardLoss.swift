import FledgeTensor

/// The loss of one micro-batch of pairs and the metrics TRL logs for it.
public struct RewardLossResult {
    /// The scalar loss, with autograd.
    public let loss: Tensor
    /// TRL's `RewardTrainer` metrics: `min_reward`, `mean_reward`, `max_reward` over every chosen and
    /// rejected reward, `accuracy` (the share of pairs whose chosen reward is higher) and `margin` (the
    /// mean of chosen − rejected).
    public let metrics: [String: Double]
}

/// The Bradley–Terry loss of a reward model, as TRL's `RewardTrainer.compute_loss` computes it: with the
/// rewards r_c of the chosen and r_r of the rejected sequences of n pairs,
/// `mean(−log σ(r_c − r_r − m))` (m the pair's `margin`, 0 without the column), plus
/// `center_rewards_coefficient · mean((r_c + r_r)²)` when that is set.
public struct RewardLoss: Sendable {
    /// Weight of the centring term; nil adds none.
    public let centerRewardsCoefficient: Double?

    public init(centerRewardsCoefficient: Double?) {
        self.centerRewardsCoefficient = centerRewardsCoefficient
    }

    /// The loss and metrics of `rewards` (`[2n]`, the chosen rewards of pairs 0…n−1, then the
    /// rejected ones, with autograd) and the pairs' margins (nil: no margin column).
    public func compute(rewards: Tensor, margins: [Double]?) -> RewardLossResult {
        precondition(rewards.count % 2 == 0 && rewards.count > 0, "reward rows come in pairs (chosen, then rejected); got \(rewards.count)")
        let pairs = rewards.count / 2
        precondition(margins == nil || margins!.count == pairs, "\(margins!.count) margins for \(pairs) pairs")
        let chosen = rewards.slice(axis: 0, 0..<pairs), rejected = rewards.slice(axis: 0, pairs..<(2 * pairs))
        var difference = chosen - rejected
        if let margins { difference = difference - Tensor(shape: [pairs], values: margins.map(Float.init)) }
        var loss = -difference.logSigmoid().mean()
        if let centerRewardsCoefficient {
            loss = loss + (chosen + rejected).square().mean() * Float(centerRewardsCoefficient)
        }
        return RewardLossResult(loss: loss, metrics: Self.metrics(rewards.detached().toArray(), pairs: pairs))
    }

    /// TRL's metrics of the `[2n]` rewards (chosen first), each computed in float32 as torch does.
    static func metrics(_ rewards: [Float], pairs: Int) -> [String: Double] {
        let chosen = rewards[..<pairs], rejected = rewards[pairs...]
        let differences = zip(chosen, rejected).map { $0 - $1 }
        return [
            "min_reward": Double(rewards.min()!),
            "mean_reward": Double(rewards.reduce(0, +)) / Double(rewards.count),
            "max_reward": Double(rewards.max()!),
            "accuracy": Double(differences.filter { $0 > 0 }.count) / Double(pairs),
            "margin": Double(differences.reduce(0, +)) / Double(pairs),
        ]
    }
}
