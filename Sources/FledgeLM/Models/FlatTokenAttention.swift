import FledgeTensor

/// How a training pass over flat tokens (`batch` 1, no KV cache) regroups them for attention:
/// every layer but attention works on the flat tokens as they are; attention gathers them into
/// padded rows, attends within each, and scatters the outputs back. A ``SharedPrefixBatch`` and a
/// ``PaddingFreeBatch`` are the two layouts.
protocol FlatTokenAttention: Sendable {
    /// Causal attention of the flat tokens' `query` `[tokens, heads, head_dim]`, `key` and `value`
    /// `[tokens, kv_heads, head_dim]` (already rotated), with the keys `slidingWindow` leaves,
    /// scores times `scale` (nil: `1 / √head_dim`) and soft-capped at `softCap`; `[tokens, heads · head_dim]` out.
    func attend(query: Tensor, key: Tensor, value: Tensor, slidingWindow: Int?, scale: Float?, softCap: Float?) -> Tensor
}

extension Tensor {
    /// `self` `[tokens, …]` with a row of zeros appended, which the padding indices of a gather read.
    func appendingZeroRow() -> Tensor {
        Tensor.concat([self, Tensor.zeros([1] + shape.dropFirst())], axis: 0)
    }
}
