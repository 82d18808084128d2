import FledgeTensor

/// Per-token log-probabilities of scored spans of sequences, with autograd, flattened in sequence
/// order: the tokens of sequence 0's span, then sequence 1's, and so on.
public struct SequenceLogProbs {
    /// `log p(token | tokens before it)` of every scored token, `[total]`; differentiable with
    /// respect to every trainable weight of the model.
    public let logProbs: Tensor
    /// The entropy of each scored position's distribution, `[total]`, when requested.
    public let entropy: Tensor?
    /// How many tokens of each sequence were scored.
    public let counts: [Int]
    /// The logit statistics asked for, per scored position, without autograd.
    public let statistics: ScoredLogitStatistics

    /// Where each sequence's tokens start in the flat tensors.
    public var offsets: [Int] {
        var result: [Int] = [], total = 0
        for count in counts {
            result.append(total)
            total += count
        }
        return result
    }
}

extension LanguageModel {
    /// Log-probabilities (with autograd) of the tokens `sequences[i][scoredFrom[i]...]`, each given
    /// every token before it, after dividing the logits by `temperature` as TRL does.
    ///
    /// The sequences are run as one left-padded batch with position ids counted over each row's
    /// real tokens, so a row's result does not depend on the others (TRL's prompt-left-padded,
    /// completion-right-padded layout gives the same numbers: padding after a token never reaches
    /// it under the causal mask) — except under LongRoPE, whose short or long factors the batch's
    /// largest position picks, as in transformers. Logits are never materialised: the final hidden states of the
    /// scored positions go through the chunked selective log-softmax. `scoredFrom[i]` must be at
    /// least 1 (the first token has no prediction). `statistics` adds summaries of the scored
    /// positions' logits (mean logit, log Σ p²), without autograd.
    public func sequenceLogProbs(
        _ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, withEntropy: Bool = false,
        statistics: LogitStatistics = []
    ) -> SequenceLogProbs {
        precondition(sequences.count == scoredFrom.count, "sequenceLogProbs: \(scoredFrom.count) starts for \(sequences.count) sequences")
        let batch = LeftPaddedBatch(sequences, padId: config.padTokenId ?? 0)
        var rows: [Int] = [], targets: [Int] = [], counts: [Int] = []
        for (r, sequence) in sequences.enumerated() {
            let start = scoredFrom[r]
            precondition(start >= 1 && start <= sequence.count,
                         "sequenceLogProbs: sequence \(r) of \(sequence.count) tokens cannot be scored from \(start)")
            let first = r * batch.length + batch.length - sequence.count
            for t in start..<sequence.count {
                rows.append(first + t - 1)
                targets.append(sequence[t])
            }
            counts.append(sequence.count - start)
        }
        let hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
        let selected = hidden.indexSelect(rows, indexShape: [rows.count])
        let result = head.logProbs(selected, targets: targets, temperature: temperature, withEntropy: withEntropy)
        return SequenceLogProbs(logProbs: result.logProbs, entropy: result.entropy, counts: counts,
                                statistics: head.statistics(statistics, hidden: selected, temperature: temperature))
    }
}
