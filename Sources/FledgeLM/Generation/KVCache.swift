import FledgeTensor

/// Keys and values of every layer for a batch of sequences, preallocated for `capacity`
/// positions: `[batch, capacity, kvHeads, headDim]` per layer. A forward pass writes its new
/// keys and values after the `length` cached ones, and attention reads the filled part as a
/// strided view, so nothing is copied or reallocated as the sequences grow.
public final class KVCache: @unchecked Sendable {
    public let batch: Int
    public let capacity: Int
    /// Positions filled so far (the same for every row; rows are left-padded).
    public internal(set) var length = 0
    private let keys: [Tensor]
    private let values: [Tensor]

    init(layers: Int, batch: Int, capacity: Int, kvHeads: Int, headDim: Int) {
        self.batch = batch
        self.capacity = capacity
        keys = (0..<layers).map { _ in Tensor.zeros([batch, capacity, kvHeads, headDim]) }
        values = (0..<layers).map { _ in Tensor.zeros([batch, capacity, kvHeads, headDim]) }
    }

    /// Writes `[batch, t, kvHeads, headDim]` keys and values at positions `start..<start + t`
    /// of `layer`; returns views of positions `0..<start + t`.
    func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor, at start: Int) -> (Tensor, Tensor) {
        let t = newKeys.shape[1], row = newKeys.shape[2] * newKeys.shape[3]
        precondition(start + t <= capacity, "KV cache holds \(capacity) positions; \(start + t) needed")
        for (cache, source) in [(keys[layer], newKeys), (values[layer], newValues)] {
            source.withUnsafeElements { from in
                cache.withUnsafeMutableElements { to in
                    for b in 0..<batch {
                        let target = to.baseAddress! + (b * capacity + start) * row
                        target.update(from: from.baseAddress! + b * t * row, count: t * row)
                    }
                }
            }
        }
        return (keys[layer].slice(axis: 1, 0..<start + t), values[layer].slice(axis: 1, 0..<start + t))
    }
}
