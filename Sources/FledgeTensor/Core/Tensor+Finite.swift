/// Scanning a tensor for NaN and infinite elements (checkpoints are checked before they are written).
extension Tensor {
    /// The first element, in row-major order, that is NaN or infinite, with its index; nil when every
    /// element is finite.
    public func firstNonFiniteElement() -> (index: Int, value: Float)? {
        withUnsafeElements { elements in
            for index in elements.indices where !elements[index].isFinite { return (index, elements[index]) }
            return nil
        }
    }
}
