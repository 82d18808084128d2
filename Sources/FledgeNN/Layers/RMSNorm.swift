import FledgeTensor

/// Root-mean-square normalisation over the last dimension with a learned scale (Llama's RMSNorm).
public final class RMSNorm: @unchecked Sendable {
    public var weight: Tensor
    public let eps: Float

    public init(weight: Tensor, eps: Float) {
        precondition(weight.rank == 1, "RMSNorm needs a [dimension] weight, got \(weight.shape)")
        self.weight = weight
        self.eps = eps
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { Tensor.rmsNorm(x, weight: weight, eps: eps) }
}
