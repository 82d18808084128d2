import FledgeNN
import FledgeTensor

/// A module with state derived from its weights (fused projections), built once they are loaded.
protocol WeightFusing: AnyObject {
    /// Builds the derived state from the loaded weights; called once.
    func fuseWeights() throws
    /// Quantizes the fused projections' frozen weights (see `FusedProjection.quantize`); `name`
    /// is the module's path, for errors.
    func quantizeFusedWeights(_ format: QuantizationFormat, nestedAbsmax: Bool, name: String) throws
}

extension Checkpoint {
    /// Replaces every parameter of `model` with the tensor of its path, which must have the
    /// declared (placeholder) shape, after checking in one error that nothing is missing,
    /// misshapen or unused; a `Linear` weight the checkpoint keeps block-quantized becomes the
    /// layer's quantized weight (`Linear.useQuantized`). Then lets every `WeightFusing` module
    /// fuse its weights.
    func load(into model: any Module) throws {
        let linears = Dictionary(uniqueKeysWithValues: model.namedModules.compactMap { name, module in
            (module as? Linear).map { (name + ".weight", $0) }
        })
        var tensors: [String: Tensor] = [:]
        var quantized: [(Linear, QuantizedMatrix)] = []
        for (name, declared) in model.namedParameters {
            if let linear = linears[name], let matrix = takeQuantized(name, declared.shape) {
                quantized.append((linear, matrix))
                tensors[name] = declared
            } else {
                tensors[name] = try take(name, declared.shape)
            }
        }
        try finish()
        model.updateParameters { name, _ in tensors[name]! }
        for (linear, matrix) in quantized { linear.useQuantized(matrix) }
        for (_, module) in model.namedModules { try (module as? WeightFusing)?.fuseWeights() }
    }
}
