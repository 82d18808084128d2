import FledgeTensor

/// One micro-batch of unpaired rows, as KTO's loss takes it.
public struct KTOBatch {
    /// The policy's log-probabilities of the completion tokens, `[total]`, with autograd, row after
    /// row (the layout `LanguageModel.sequenceLogProbs` returns).
    public var logProbs: Tensor
    /// Completion tokens of each row in `logProbs`.
    public var counts: [Int]
    /// Whether each row's completion is desirable.
    public var labels: [Bool]
    /// The reference policy's log-probability of each row's completion (summed over it).
    public var reference: [Float]
    /// The policy's and the reference's log-probability of each row's mismatched completion (its
    /// prompt followed by another row's completion), for the KL estimate; nil without one.
    public var mismatched: [Float]?
    public var referenceMismatched: [Float]?
    /// The mean over the vocabulary of each scored position's logits, `[total]`, for the
    /// `logits/chosen` and `logits/rejected` metrics (left out of the metrics when nil).
    public var meanLogits: [Float]?

    public init(logProbs: Tensor, counts: [Int], labels: [Bool], reference: [Float], mismatched: [Float]? = nil,
                referenceMismatched: [Float]? = nil, meanLogits: [Float]? = nil) {
        self.logProbs = logProbs
        self.counts = counts
        self.labels = labels
        self.reference = reference
        self.mismatched = mismatched
        self.referenceMismatched = referenceMismatched
        self.meanLogits = meanLogits
    }
}
