import FledgeNN
import FledgeTensor

/// A module with state derived from its weights (fused projections), built once they are loaded.
protocol WeightFusing: AnyObject {
    /// Builds the derived state from the loaded weights; called once.
    func fuseWeights()
    /// Quantizes the fused projections' frozen weights (see `FusedProjection.quantize`); `name`
    /// is the module's path, for errors.
    func quantizeFusedWeights(_ format: QuantizationFormat, nestedAbsmax: Bool, name: String) throws
}

extension Checkpoint {
    /// Replaces every parameter of `model` with the tensor of its path, which must have the
    /// declared (placeholder) shape, after checking in one error that nothing is missing,
    /// misshapen or unused; then lets every `WeightFusing` module fuse its weights.
    func load(into model: any Module) throws {
        var tensors: [String: Tensor] = [:]
        for (name, declared) in model.namedParameters { tensors[name] = try take(name, declared.shape) }
        try finish()
        model.updateParameters { name, _ in tensors[name]! }
        for (_, module) in model.namedModules { (module as? WeightFusing)?.fuseWeights() }
    }
}
