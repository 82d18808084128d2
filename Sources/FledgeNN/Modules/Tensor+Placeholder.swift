import FledgeTensor

extension Tensor {
    /// A parameter of `shape` that is declared and not yet loaded: one zero seen through zero
    /// strides, so a model declared with its full shapes takes no memory until its weights are
    /// loaded into it.
    public static func placeholder(_ shape: [Int]) -> Tensor {
        Tensor.zeros([]).expanded(to: shape)
    }
}
