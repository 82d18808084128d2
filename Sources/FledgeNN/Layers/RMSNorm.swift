import FledgeTensor

/// Root-mean-square normalisation over the last dimension with a learned scale (Llama's RMSNorm).
public final class RMSNorm: Module, @unchecked Sendable {
    public var weight: Tensor
    public let eps: Float

    public init(weight: Tensor, eps: Float) {
        precondition(weight.rank == 1, "RMSNorm needs a [dimension] weight, got \(weight.shape)")
        self.weight = weight
        self.eps = eps
    }

    /// A norm over `dimension` values whose weight is a placeholder, to be loaded.
    public convenience init(dimension: Int, eps: Float) {
        self.init(weight: Tensor.placeholder([dimension]), eps: eps)
    }

    /// `weight`.
    public func members(_ visitor: ModuleVisitor) { visitor.parameter("weight", &weight) }

    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.rmsNorm(x, weight: weight, eps: eps) }
}
