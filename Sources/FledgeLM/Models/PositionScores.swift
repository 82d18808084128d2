import FledgeTensor

extension SequenceClassifier {
    /// The classifier's first score, with autograd, at every position `starts[i]..<sequences[i].count`
    /// of each sequence, flat in sequence order: a value model's estimate of each state. (TRL's PPO
    /// reads `value_model(query_response)[:, context_length − 1 : −1]`: from the position before the
    /// first response token.) The sequences run as one left-padded batch, as in `LanguageModel.sequenceLogProbs`.
    public func positionScores(_ sequences: [[Int]], from starts: [Int]) -> Tensor {
        precondition(sequences.count == starts.count, "positionScores: \(starts.count) starts for \(sequences.count) sequences")
        let batch = LeftPaddedBatch(sequences, padId: config.padTokenId ?? 0)
        var rows: [Int] = []
        for (r, sequence) in sequences.enumerated() {
            precondition((0...sequence.count).contains(starts[r]),
                         "positionScores: sequence \(r) of \(sequence.count) tokens cannot be scored from \(starts[r])")
            let first = r * batch.length + batch.length - sequence.count
            rows += (starts[r]..<sequence.count).map { first + $0 }
        }
        let hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
        let scores = score(hidden.indexSelect(rows, indexShape: [rows.count]))
        return scores.slice(axis: 1, 0..<1).reshaped([rows.count])
    }
}
