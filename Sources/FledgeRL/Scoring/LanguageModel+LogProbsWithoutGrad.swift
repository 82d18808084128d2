import FledgeLM
import FledgeTensor

extension LanguageModel {
    /// Per-token log-probabilities of `sequences[i][scoredFrom[i]...]` (after dividing the logits by
    /// `temperature`) as the model is now, without gradients, `batchSize` sequences per forward pass;
    /// flat, in order.
    public func logProbsWithoutGrad(_ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, batchSize: Int) -> [Float] {
        precondition(batchSize > 0, "log-probs need a positive batch size")
        return Tensor.withoutGrad {
            stride(from: 0, to: sequences.count, by: batchSize).flatMap { start in
                let range = start..<Swift.min(start + batchSize, sequences.count)
                return sequenceLogProbs(Array(sequences[range]), scoredFrom: Array(scoredFrom[range]), temperature: temperature)
                    .logProbs.toArray()
            }
        }
    }
}
