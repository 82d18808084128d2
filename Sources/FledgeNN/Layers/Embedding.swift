import FledgeTensor

/// A lookup table of token vectors, `[vocabulary, dimension]`.
public final class Embedding: Module, @unchecked Sendable {
    public var weight: Tensor

    public init(weight: Tensor) {
        precondition(weight.rank == 2, "Embedding needs a [vocabulary, dimension] weight, got \(weight.shape)")
        self.weight = weight
    }

    /// A table of the given size whose weight is a placeholder, to be loaded.
    public convenience init(vocabularySize: Int, dimension: Int) {
        self.init(weight: Tensor.placeholder([vocabularySize, dimension]))
    }

    /// `weight`.
    public func members(_ visitor: ModuleVisitor) { visitor.parameter("weight", &weight) }

    public var vocabularySize: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    /// The rows of `ids`, shaped `shape + [dimension]`.
    public func callAsFunction(_ ids: [Int], shape: [Int]) -> Tensor {
        weight.indexSelect(ids, indexShape: shape)
    }
}
