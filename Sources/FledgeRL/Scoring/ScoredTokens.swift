import FledgeLM
import FledgeTensor

/// Per-token log-probabilities of completions scored without gradients (``LanguageModel/scoreWithoutGrad(_:scoredFrom:temperature:batchSize:sharingPrefixes:)``,
/// ``ReferencePolicy/score(_:scoredFrom:temperature:batchSize:sharingPrefixes:)``), in the one per-token layout (``TokenRows``):
/// what old-policy and reference scoring, DPO's and KTO's reference sums and PPO's rollouts read.
public struct ScoredTokens {
    /// `log p(token | tokens before it)` of every scored token, flat in row order.
    public let values: [Float]
    /// The rows the values fall into.
    public let layout: TokenRows

    /// `values` in rows of `counts` tokens.
    public init(values: [Float], counts: [Int]) {
        layout = TokenRows(counts: counts)
        precondition(values.count == layout.total, "\(values.count) scores for rows of \(counts) tokens")
        self.values = values
    }

    /// Each row's log-probabilities.
    public var rows: [[Float]] { layout.split(values) }

    /// Each row's summed log-probability (the sequence's), added in token order.
    public var sums: [Float] { layout.sums(values) }

    /// The values as a `[rows, width]` grid with zeros in the padding; `width` (at least the longest row)
    /// defaults to the longest row.
    public func grid(width: Int? = nil) -> Tensor {
        (width.map { TokenRows(counts: layout.counts, width: $0) } ?? layout).grid(values)
    }
}

extension LanguageModel {
    /// Fledge's one no-grad scoring: the log-probabilities of `sequences[i][scoredFrom[i]...]` (after
    /// dividing the logits by `temperature`) as the model is now, `batchSize` sequences per forward pass;
    /// with `sharingPrefixes`, the sequences of a pass with equal unscored prefixes run that prefix once
    /// (``LanguageModel/sequenceLogProbs(_:scoredFrom:temperature:withEntropy:statistics:withMeanNegativeLogProbs:sharingPrefixes:paddingFree:)``).
    /// ``ReferencePolicy/score(_:scoredFrom:temperature:batchSize:sharingPrefixes:)`` runs it with the adapters off or on a frozen copy.
    public func scoreWithoutGrad(_ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, batchSize: Int,
                                 sharingPrefixes: Bool = false) -> ScoredTokens {
        precondition(batchSize > 0, "log-probs need a positive batch size")
        let values = Tensor.withoutGrad {
            stride(from: 0, to: sequences.count, by: batchSize).flatMap { start in
                let range = start..<Swift.min(start + batchSize, sequences.count)
                return sequenceLogProbs(Array(sequences[range]), scoredFrom: Array(scoredFrom[range]), temperature: temperature,
                                        sharingPrefixes: sharingPrefixes).logProbs.toArray()
            }
        }
        return ScoredTokens(values: values, counts: sequences.indices.map { sequences[$0].count - scoredFrom[$0] })
    }

    /// The flat values of ``scoreWithoutGrad(_:scoredFrom:temperature:batchSize:sharingPrefixes:)``.
    public func logProbsWithoutGrad(_ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, batchSize: Int) -> [Float] {
        scoreWithoutGrad(sequences, scoredFrom: scoredFrom, temperature: temperature, batchSize: batchSize).values
    }
}
