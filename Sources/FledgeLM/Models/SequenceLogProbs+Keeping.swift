import FledgeTensor

extension SequenceLogProbs {
    /// The scores of the positions `keep` marks (one flag per scored position, flat in sequence order), with
    /// autograd: what a loss over some of a completion's tokens takes (a multi-turn completion's own tokens, without
    /// the tool results between them). Each sequence's count becomes its kept positions.
    public func keeping(_ keep: [Bool]) -> SequenceLogProbs {
        precondition(keep.count == counts.reduce(0, +), "keeping: \(keep.count) flags for \(counts.reduce(0, +)) scored positions")
        let kept = keep.indices.filter { keep[$0] }
        var keptCounts: [Int] = [], start = 0
        for count in counts {
            keptCounts.append(keep[start..<start + count].filter { $0 }.count)
            start += count
        }
        func select(_ tensor: Tensor) -> Tensor {
            kept.isEmpty ? Tensor(shape: [0], values: []) : tensor.indexSelect(kept, indexShape: [kept.count])
        }
        func select(_ values: [Float]?) -> [Float]? { values.map { values in kept.map { values[$0] } } }
        return SequenceLogProbs(
            logProbs: select(logProbs), entropy: entropy.map(select), counts: keptCounts,
            statistics: ScoredLogitStatistics(meanLogits: select(statistics.meanLogits),
                                              logSumSquaredProbs: select(statistics.logSumSquaredProbs)),
            meanNegativeLogProbs: meanNegativeLogProbs.map(select))
    }
}
