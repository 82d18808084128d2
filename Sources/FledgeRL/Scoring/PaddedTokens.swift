import FledgeTensor

/// Rows of different lengths, stored flat (row 0's tokens, then row 1's, …, as `sequenceLogProbs`
/// returns them), laid out as a right-padded `[rows, width]` grid with a loss mask, the layout TRL's
/// per-token tensors have.
struct PaddedTokens {
    /// Tokens in each row.
    let counts: [Int]
    /// The grid's width: the longest row (at least 1, so that a batch of empty rows has a shape), or
    /// the width asked for.
    let width: Int
    /// Tokens in all rows.
    let total: Int
    /// For each grid cell, the flat index of its token, or `total` for padding.
    let sourceIndex: [Int]
    /// 1 where the grid holds a token, 0 in the padding, `[rows, width]`.
    let mask: Tensor

    /// The layout of rows of `counts` tokens, `width` columns wide (at least the longest row).
    init(counts: [Int], width: Int? = nil) {
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

    var rows: Int { counts.count }

    /// The flat `[total]` tensor as a `[rows, width]` grid with zeros in the padding; gradients flow
    /// back to the flat tensor.
    func grid(_ flat: Tensor) -> Tensor {
        precondition(flat.shape == [total], "per-token tensor of shape \(flat.shape) for \(total) tokens in \(rows) rows")
        return Tensor.concat([flat, Tensor.zeros([1])], axis: 0).indexSelect(sourceIndex, indexShape: [rows, width])
    }

    /// Flat constants (old or reference log-probabilities) as a `[rows, width]` grid.
    func grid(_ flat: [Float]) -> Tensor {
        precondition(flat.count == total, "\(flat.count) per-token values for \(total) tokens in \(rows) rows")
        return Tensor(shape: [rows, width], values: sourceIndex.map { $0 < total ? flat[$0] : 0 })
    }

    /// One value per row as a `[rows, 1]` column that broadcasts over the row's tokens.
    func column(_ values: [Float]) -> Tensor {
        precondition(values.count == rows, "\(values.count) per-row values for \(rows) rows")
        return Tensor(shape: [rows, 1], values: values)
    }

    /// Each row's token count, at least 1, as a `[rows, 1]` column (TRL's `mask.sum(-1).clamp(min=1)`).
    var clampedCounts: Tensor { column(counts.map { Float(Swift.max($0, 1)) }) }
}
