import FledgeTensor

extension LanguageModel {
    /// The final hidden states (after the last norm), `[scored, hidden]`, of the positions that
    /// predict the tokens `sequences[i][scoredFrom[i]...]`, flat in sequence order, with autograd:
    /// what the output head turns into those tokens' logits. The sequences run as one left-padded
    /// batch with position ids over each row's real tokens, as ``sequenceLogProbs`` runs them
    /// unshared; `scoredFrom[i]` must be at least 1 (the first token has no prediction).
    public func scoredHiddenStates(_ sequences: [[Int]], scoredFrom: [Int]) -> Tensor {
        precondition(sequences.count == scoredFrom.count, "scoredHiddenStates: \(scoredFrom.count) starts for \(sequences.count) sequences")
        for (r, sequence) in sequences.enumerated() {
            precondition(scoredFrom[r] >= 1 && scoredFrom[r] <= sequence.count,
                         "scoredHiddenStates: sequence \(r) of \(sequence.count) tokens cannot be scored from \(scoredFrom[r])")
        }
        guard !sequences.isEmpty else { return Tensor.zeros([0, config.hiddenSize]) }
        let batch = LeftPaddedBatch(sequences, padId: config.padTokenId ?? 0)
        let hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
        let rows = sequences.indices.flatMap { r in
            let first = r * batch.length + batch.length - sequences[r].count
            return (scoredFrom[r]..<sequences[r].count).map { first + $0 - 1 }
        }
        return hidden.indexSelect(rows, indexShape: [rows.count])
    }
}
