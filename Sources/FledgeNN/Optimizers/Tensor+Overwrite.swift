import FledgeTensor

extension Tensor {
    /// Copies `source`'s elements into this contiguous tensor in place (restoring optimizer state).
    func overwrite(with source: Tensor) {
        precondition(source.shape == shape, "overwrite needs shape \(shape), got \(source.shape)")
        source.withUnsafeElements { values in
            withUnsafeMutableElements { target in _ = target.update(fromContentsOf: values) }
        }
    }
}
