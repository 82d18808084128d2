import FledgeTensor

/// Root-mean-square normalisation over the last dimension with a learned scale (Llama's RMSNorm),
/// or with the scale `1 + weight` (Gemma's RMSNorm, whose stored weights are centred on 0).
public final class RMSNorm: Module, @unchecked Sendable {
    public var weight: Tensor
    public let eps: Float
    /// Added to `weight` before scaling: 0 (Llama) or 1 (Gemma).
    public let weightOffset: Float

    public init(weight: Tensor, eps: Float, weightOffset: Float = 0) {
        precondition(weight.rank == 1, "RMSNorm needs a [dimension] weight, got \(weight.shape)")
        self.weight = weight
        self.eps = eps
        self.weightOffset = weightOffset
    }

    /// A norm over `dimension` values whose weight is a placeholder, to be loaded.
    public convenience init(dimension: Int, eps: Float, weightOffset: Float = 0) {
        self.init(weight: Tensor.placeholder([dimension]), eps: eps, weightOffset: weightOffset)
    }

    /// `weight`.
    public func members(_ visitor: ModuleVisitor) { visitor.parameter("weight", &weight) }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        Tensor.rmsNorm(x, weight: weightOffset == 0 ? weight : weight + weightOffset, eps: eps)
    }
}
