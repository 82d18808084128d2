import FledgeTensor

/// TRL's `get_high_entropy_mask` ("Beyond the 80/20 rule"): keep in the policy loss only the tokens
/// whose entropy reaches the `1 − ρ` quantile of the micro-batch's token entropies.
enum HighEntropyMask {
    /// A `[rows, width]` grid of 1 (kept) and 0 for the flat `entropies` of `layout`'s tokens,
    /// keeping the top `quantile` share.
    static func mask(_ entropies: [Float], layout: TokenRows, keeping quantile: Double) -> Tensor {
        precondition(entropies.count == layout.total, "\(entropies.count) entropies for \(layout.total) tokens")
        guard !entropies.isEmpty else { return Tensor.zeros([layout.rows, layout.width]) }
        let threshold = linearQuantile(entropies, Float(1 - quantile))
        return Tensor(shape: [layout.rows, layout.width], values: layout.sourceIndex.map {
            $0 < layout.total && entropies[$0] >= threshold ? 1 : 0
        })
    }

    /// `torch.quantile` with linear interpolation, in float32 as PyTorch computes it (the rank
    /// q·(n − 1) and the interpolation both round as float32 does).
    static func linearQuantile(_ values: [Float], _ q: Float) -> Float {
        let sorted = values.sorted()
        let rank = q * Float(sorted.count - 1)
        let below = rank.rounded(.down)
        let weight = rank - below
        let low = sorted[Int(below)], high = sorted[Int(rank.rounded(.up))]
        // torch.lerp's two-sided formula.
        return weight < 0.5 ? low + weight * (high - low) : high - (high - low) * (1 - weight)
    }
}
