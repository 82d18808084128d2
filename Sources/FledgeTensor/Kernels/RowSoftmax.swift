/// Vectorised softmax of one row of floats, for callers outside the engine that work on raw
/// buffers (sampling the next token from a row of logits).
public enum RowSoftmax {
    /// Replaces `row` by `softmax(row · scale)` (−inf entries become 0; at least one entry must
    /// be finite) and returns `log Σ exp(row · scale)`, so that `x · scale − result` is the
    /// log-probability of an entry `x`.
    public static func inPlace(_ row: UnsafeMutableBufferPointer<Float>, scale: Float) -> Float {
        guard let base = row.baseAddress, !row.isEmpty else { return -.infinity }
        return VectorMath.softmaxRow(base, row.count, scale: scale)
    }
}
