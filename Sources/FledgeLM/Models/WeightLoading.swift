import FledgeNN
import FledgeTensor

/// A module with state derived from its weights (fused projections), built once they are loaded.
protocol WeightFusing: AnyObject {
    /// Builds the derived state from the loaded weights; called once.
    func fuseWeights() throws
}

extension Checkpoint {
    /// Replaces every parameter of `model` with the tensor of its path, after checking in one
    /// error that nothing is missing, misshapen or unused (before anything is read). Then lets every
    /// `WeightFusing` module fuse its weights.
    ///
    /// Each linear weight of the decoder becomes the layer's quantized weight (`Linear.useQuantized`)
    /// as it is read when `quantization` is given — its float32 tensor freed before the next is
    /// read, so the float copy of the whole base never exists — or when the checkpoint keeps it
    /// block-quantized (a GGUF file's blocks, kept as they are when `quantization` is nil, bf16 or
    /// names their format; dequantized and quantized again otherwise).
    func load(into model: PretrainedModel, quantization: BaseQuantization?) throws {
        let parameters = model.namedParameters
        for (name, declared) in parameters { expect(name, declared.shape) }
        try finish()
        let linears = Dictionary(uniqueKeysWithValues: model.namedLinears.map { ($0 + ".weight", $1) })
        var tensors: [String: Tensor] = [:]
        for (name, _) in parameters {
            guard let linear = linears[name], let matrix = try quantizedWeight(name, quantization: quantization) else {
                tensors[name] = try read(name)
                continue
            }
            linear.useQuantized(matrix)
            tensors[name] = linear.weight
        }
        model.updateParameters { name, _ in tensors[name]! }
        for (_, module) in model.namedModules { try (module as? WeightFusing)?.fuseWeights() }
    }

    /// The block-quantized form of the linear weight `name`: the checkpoint's blocks when they are
    /// in the format asked for (or none is asked for, or bf16, which only rounds float weights), else
    /// the weight read in float32 and quantized to `quantization`, its float memory released; nil for
    /// a float weight and no quantization.
    private func quantizedWeight(_ name: String, quantization: BaseQuantization?) throws -> QuantizedMatrix? {
        let stored = storedQuantized(name)
        if let stored, quantization == nil || quantization?.format == stored.format || quantization?.format == .bf16 { return stored }
        guard let quantization else { return nil }
        let matrix = try quantization.quantize(read(name), name: name)
        release(name)
        return matrix
    }
}
