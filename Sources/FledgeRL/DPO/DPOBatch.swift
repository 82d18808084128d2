import FledgeTensor

/// One micro-batch of preference pairs, as DPO's loss takes it: per-token values flat in TRL's
/// batch order, the chosen completions of pairs 0, 1, …, n−1 and then the rejected ones (row r's
/// tokens, then row r+1's, the layout `LanguageModel.sequenceLogProbs` returns).
public struct DPOBatch {
    /// The policy's log-probabilities of the completion tokens, `[total]`, with autograd.
    public var logProbs: Tensor
    /// Completion tokens of each of the 2n rows in `logProbs`.
    public var counts: [Int]
    /// The reference policy's log-probability of each pair's chosen completion, and of its rejected
    /// one: sums over the completion (`DPOSequenceLogProbs.sums`), or precomputed.
    public var referenceChosen: [Float]
    public var referenceRejected: [Float]
    /// The mean over the vocabulary of each scored position's logits, `[total]`, for the
    /// `logits/chosen` and `logits/rejected` metrics (left out of the metrics when nil).
    public var meanLogits: [Float]?
    /// log Σ_v p_v² of each scored position's distribution, `[total]`; needed by `use_weighting`.
    public var logSumSquaredProbs: [Float]?

    public init(logProbs: Tensor, counts: [Int], referenceChosen: [Float], referenceRejected: [Float],
                meanLogits: [Float]? = nil, logSumSquaredProbs: [Float]? = nil) {
        self.logProbs = logProbs
        self.counts = counts
        self.referenceChosen = referenceChosen
        self.referenceRejected = referenceRejected
        self.meanLogits = meanLogits
        self.logSumSquaredProbs = logSumSquaredProbs
    }

    /// Preference pairs in the batch.
    public var pairCount: Int { counts.count / 2 }
}

/// Sequence log-probabilities of DPO's chosen and rejected rows from per-token ones, as TRL sums
/// them: over the completion, or with LD-DPO (`ld_alpha` = α) the tokens up to the shorter
/// completion of the pair plus α times the tokens past it.
public enum DPOSequenceLogProbs {
    /// The `[2n]` sums of the rows of `grid` (`[2n, width]`, zeros past each row's end), chosen rows
    /// first; gradients flow back to `grid`.
    static func sums(_ grid: Tensor, layout: TokenRows, ldAlpha: Double?) -> Tensor {
        guard let ldAlpha else { return grid.sum(axis: 1) }
        let pairs = layout.rows / 2
        let shared = (0..<pairs).map { Swift.min(layout.counts[$0], layout.counts[pairs + $0]) }
        var sharedMask: [Float] = [], tailMask: [Float] = []
        for row in 0..<layout.rows {
            let limit = shared[row % pairs]
            for column in 0..<layout.width {
                sharedMask.append(column < limit ? 1 : 0)
                tailMask.append(column >= limit && column < layout.counts[row] ? 1 : 0)
            }
        }
        let shape = [layout.rows, layout.width]
        return (grid * Tensor(shape: shape, values: sharedMask)).sum(axis: 1)
            + (grid * Tensor(shape: shape, values: tailMask)).sum(axis: 1) * Float(ldAlpha)
    }

    /// The reference policy's chosen and rejected sums from its per-token log-probabilities
    /// (`[total]`, in `DPOBatch`'s order), as TRL's `compute_ref_log_probs` gives them.
    public static func referenceSums(_ logProbs: [Float], counts: [Int], ldAlpha: Double?) -> (chosen: [Float], rejected: [Float]) {
        precondition(counts.count % 2 == 0, "DPO rows come in pairs (chosen, then rejected); got \(counts.count) rows")
        let layout = TokenRows(counts: counts)
        let sums = Tensor.withoutGrad { Self.sums(layout.grid(logProbs), layout: layout, ldAlpha: ldAlpha).toArray() }
        return (Array(sums[..<(counts.count / 2)]), Array(sums[(counts.count / 2)...]))
    }
}
