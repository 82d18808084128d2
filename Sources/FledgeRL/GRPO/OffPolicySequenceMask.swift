import FledgeTensor

/// TRL's off-policy sequence mask (`off_policy_mask_threshold`, DeepSeek-V3.2's OPSM): a completion with
/// a negative advantage is left out of the policy loss when the policy that sampled it has drifted too
/// far from the current one — when its mean per-token KL estimate, log π_old − log π_θ over its scored
/// tokens, exceeds the threshold. Completions with a non-negative advantage are always kept.
enum OffPolicySequenceMask {
    /// A `[rows, 1]` column of 1 (kept) and 0 for `layout`'s rows, from the flat sampling-policy and
    /// current log-probabilities of their tokens (a NaN difference counts as 0, as TRL does).
    static func mask(sampling: [Float], current: [Float], advantages: [Float], layout: TokenRows,
                     threshold: Double) -> Tensor {
        precondition(sampling.count == layout.total && current.count == layout.total,
                     "\(sampling.count) sampling and \(current.count) current log-probs for \(layout.total) tokens")
        var start = 0
        let kept: [Float] = zip(layout.counts, advantages).map { count, advantage in
            var sum: Float = 0
            for index in start..<start + count {
                let difference = sampling[index] - current[index]
                sum += difference.isNaN ? 0 : difference
            }
            start += count
            let meanKL = sum / Float(Swift.max(count, 1))
            return advantage >= 0 || meanKL <= Float(threshold) ? 1 : 0
        }
        return layout.column(kept)
    }
}
