import FledgeTensor

/// Keys and values of every layer for a batch of sequences, preallocated for `capacity`
/// positions: `[batch, capacity, kvHeads, headDim]` per layer. A forward pass writes its new
/// keys and values after the `length` cached ones, and attention reads the filled part as a
/// strided view, so nothing is copied or reallocated as the sequences grow.
///
/// Every row's tokens end at `length` (rows are left-padded, and a row placed later is
/// right-aligned to `length`, see ``copyRow(_:of:positions:into:)``). A pass may use only the
/// first rows of the cache (its batch); the continuous-batching scheduler keeps its decoding
/// rows there, moving a row into the place of one that stopped (``moveRow(_:to:)``) and
/// dropping positions no row uses any more (``dropLeading(_:)``).
public final class KVCache: @unchecked Sendable {
    public let batch: Int
    public let capacity: Int
    /// Positions filled so far (the same for every row; rows are left-padded).
    public internal(set) var length = 0
    private let keys: [Tensor]
    private let values: [Tensor]
    /// Floats of one position of one row of one layer (`kvHeads · headDim`).
    private let positionSize: Int

    init(layers: Int, batch: Int, capacity: Int, kvHeads: Int, headDim: Int) {
        self.batch = batch
        self.capacity = capacity
        positionSize = kvHeads * headDim
        keys = (0..<layers).map { _ in Tensor.zeros([batch, capacity, kvHeads, headDim]) }
        values = (0..<layers).map { _ in Tensor.zeros([batch, capacity, kvHeads, headDim]) }
    }

    /// Writes `[rows, t, kvHeads, headDim]` keys and values at positions `start..<start + t` of
    /// the first `rows` rows of `layer`; returns views of positions `0..<start + t` of those rows.
    func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor, at start: Int) -> (Tensor, Tensor) {
        let rows = newKeys.shape[0], t = newKeys.shape[1]
        precondition(rows <= batch, "KV cache holds \(batch) rows; \(rows) given")
        precondition(start + t <= capacity, "KV cache holds \(capacity) positions; \(start + t) needed")
        for (cache, source) in [(keys[layer], newKeys), (values[layer], newValues)] {
            source.withUnsafeElements { from in
                cache.withUnsafeMutableElements { to in
                    for b in 0..<rows {
                        let target = to.baseAddress! + (b * capacity + start) * positionSize
                        target.update(from: from.baseAddress! + b * t * positionSize, count: t * positionSize)
                    }
                }
            }
        }
        let filled = start + t
        func view(_ tensor: Tensor) -> Tensor {
            let used = rows == batch ? tensor : tensor.slice(axis: 0, 0..<rows)
            return used.slice(axis: 1, 0..<filled)
        }
        return (view(keys[layer]), view(values[layer]))
    }

    /// Copies positions `positions` of row `sourceRow` of `source` (a cache of the same model)
    /// into row `row` of this one, every layer, so that they end at `length`: a prompt
    /// prefilled once is shared by the rows that continue it.
    func copyRow(_ sourceRow: Int, of source: KVCache, positions: Range<Int>, into row: Int) {
        precondition(positions.count <= length && positions.upperBound <= source.length,
                     "KV cache row copy of \(positions) into \(length) filled positions")
        let count = positions.count * positionSize
        for (targets, sources) in [(keys, source.keys), (values, source.values)] {
            for (target, from) in zip(targets, sources) {
                from.withUnsafeElements { from in
                    target.withUnsafeMutableElements { to in
                        let destination = to.baseAddress! + (row * capacity + length - positions.count) * positionSize
                        destination.update(from: from.baseAddress! + (sourceRow * source.capacity + positions.lowerBound) * positionSize,
                                           count: count)
                    }
                }
            }
        }
    }

    /// Copies row `source`'s filled positions over row `row`'s (the scheduler filling the place
    /// of a row that stopped with its last row).
    func moveRow(_ source: Int, to row: Int) {
        for tensor in keys + values {
            tensor.withUnsafeMutableElements { elements in
                let base = elements.baseAddress!
                (base + row * capacity * positionSize).update(from: base + source * capacity * positionSize,
                                                                count: length * positionSize)
            }
        }
    }

    /// Drops the first `count` positions of every row (positions no row reads any more), moving
    /// the rest to the front: `length` falls by `count`.
    func dropLeading(_ count: Int) {
        precondition(count <= length, "KV cache has \(length) positions; cannot drop \(count)")
        for tensor in keys + values {
            tensor.withUnsafeMutableElements { elements in
                for b in 0..<batch {
                    let rowStart = elements.baseAddress! + b * capacity * positionSize
                    rowStart.update(from: rowStart + count * positionSize, count: (length - count) * positionSize)
                }
            }
        }
        length -= count
    }
}
