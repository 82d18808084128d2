/// What a PPO rollout recorded, per response position: `[rows, responseLength]` grids, row-major.
public struct PPORollout: Sendable {
    /// Positions per response (`response_length`).
    public var responseLength: Int
    /// The sampling policy's log-probability of each response token (after the temperature).
    public var logProbs: [Float]
    /// The reference policy's.
    public var referenceLogProbs: [Float]
    /// The value model's estimate at each position.
    public var values: [Float]
    /// The reward model's score of each response (after any `missing_eos_penalty`).
    public var scores: [Float]
    /// The index of each response's last token: its first padding position − 1 after truncation
    /// at the stop token (TRL's `sequence_lengths`); −1 for an empty response.
    public var sequenceLengths: [Int]

    public init(responseLength: Int, logProbs: [Float], referenceLogProbs: [Float], values: [Float], scores: [Float],
                sequenceLengths: [Int]) {
        let cells = scores.count * responseLength
        precondition(logProbs.count == cells && referenceLogProbs.count == cells && values.count == cells,
                     "PPO rollout grids need \(scores.count) rows × \(responseLength) positions = \(cells) values; got "
                         + "\(logProbs.count) log-probs, \(referenceLogProbs.count) reference log-probs, \(values.count) values")
        precondition(sequenceLengths.count == scores.count, "\(sequenceLengths.count) sequence lengths for \(scores.count) responses")
        precondition(sequenceLengths.allSatisfy { (-1..<responseLength).contains($0) },
                     "sequence lengths must lie in -1..<\(responseLength): \(sequenceLengths)")
        self.responseLength = responseLength
        self.logProbs = logProbs
        self.referenceLogProbs = referenceLogProbs
        self.values = values
        self.scores = scores
        self.sequenceLengths = sequenceLengths
    }

    public var rows: Int { scores.count }
}

/// Where each response ends, as TRL's PPO masks it: positions past the last token are padding
/// (`padding_mask`); the value is also trained one position further (`padding_mask_p1`).
struct PPOPadding: Sendable {
    let responseLength: Int
    let sequenceLengths: [Int]

    /// True at padding, `[rows · responseLength]`.
    var mask: [Bool] { cells { $0 > $1 } }
    /// True past the position after the last token.
    var maskPlusOne: [Bool] { cells { $0 > $1 + 1 } }

    private func cells(_ isPadding: (Int, Int) -> Bool) -> [Bool] {
        sequenceLengths.flatMap { length in (0..<responseLength).map { isPadding($0, length) } }
    }
}
