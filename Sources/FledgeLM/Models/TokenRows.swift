import FledgeTensor

/// The one layout of per-token values (scored log-probabilities, entropies, advantages per token) from
/// the model's log-probabilities to every loss: rows of different lengths, stored flat (row 0's tokens,
/// then row 1's, …, as ``LanguageModel/sequenceLogProbs(_:scoredFrom:temperature:withEntropy:statistics:withMeanNegativeLogProbs:sharingPrefixes:paddingFree:)``
/// returns them), laid out as a right-padded `[rows, width]` grid with a loss mask, the layout TRL's
/// per-token tensors have.
public struct TokenRows {
    /// Tokens in each row.
    public let counts: [Int]
    /// The grid's width: the longest row (at least 1, so that a batch of empty rows has a shape), or
    /// the width asked for.
    public let width: Int
    /// Tokens in all rows.
    public let total: Int
    /// For each grid cell, the flat index of its token, or `total` for padding.
    public let sourceIndex: [Int]
    /// 1 where the grid holds a token, 0 in the padding, `[rows, width]`.
    public let mask: Tensor

    /// The layout of rows of `counts` tokens, `width` columns wide (at least the longest row).
    public init(counts: [Int], width: Int? = nil) {
        precondition(counts.allSatisfy { $0 >= 0 }, "token counts must not be negative: \(counts)")
        precondition(width.map { $0 >= (counts.max() ?? 0) } ?? true, "a grid of width \(width ?? 0) for rows of \(counts)")
        self.counts = counts
        let width = width ?? Swift.max(counts.max() ?? 0, 1)
        self.width = width
        total = counts.reduce(0, +)
        var index: [Int] = [], mask: [Float] = []
        var offset = 0
        for count in counts {
            for column in 0..<width {
                index.append(column < count ? offset + column : total)
                mask.append(column < count ? 1 : 0)
            }
            offset += count
        }
        sourceIndex = index
        self.mask = Tensor(shape: [counts.count, width], values: mask)
    }

    /// The number of rows.
    public var rows: Int { counts.count }

    /// The flat `[total]` tensor as a `[rows, width]` grid with zeros in the padding; gradients flow
    /// back to the flat tensor.
    public func grid(_ flat: Tensor) -> Tensor {
        precondition(flat.shape == [total], "per-token tensor of shape \(flat.shape) for \(total) tokens in \(rows) rows")
        return Tensor.concat([flat, Tensor.zeros([1])], axis: 0).indexSelect(sourceIndex, indexShape: [rows, width])
    }

    /// Flat constants (old or reference log-probabilities) as a `[rows, width]` grid.
    public func grid(_ flat: [Float]) -> Tensor {
        precondition(flat.count == total, "\(flat.count) per-token values for \(total) tokens in \(rows) rows")
        return Tensor(shape: [rows, width], values: sourceIndex.map { $0 < total ? flat[$0] : 0 })
    }

    /// One value per row as a `[rows, 1]` column that broadcasts over the row's tokens.
    public func column(_ values: [Float]) -> Tensor {
        precondition(values.count == rows, "\(values.count) per-row values for \(rows) rows")
        return Tensor(shape: [rows, 1], values: values)
    }

    /// Each row's token count, at least 1, as a `[rows, 1]` column (TRL's `mask.sum(-1).clamp(min=1)`).
    public var clampedCounts: Tensor { column(counts.map { Float(Swift.max($0, 1)) }) }

    /// Each row's values of the flat constants `flat`.
    public func split(_ flat: [Float]) -> [[Float]] {
        precondition(flat.count == total, "\(flat.count) per-token values for \(total) tokens in \(rows) rows")
        var result: [[Float]] = [], offset = 0
        for count in counts {
            result.append(Array(flat[offset..<(offset + count)]))
            offset += count
        }
        return result
    }

    /// The sum of each row's values of the flat constants `flat`, added in token order.
    public func sums(_ flat: [Float]) -> [Float] {
        split(flat).map { $0.reduce(0, +) }
    }
}
