import Foundation
import FledgeTensor

extension PretrainedModel {
    /// Moves every weight toward `source`'s weight of the same name, in place:
    /// `w ← w · (1 − alpha) + source · alpha` (TRL's `SyncRefModelCallback`, TR-DPO's soft update of the
    /// reference policy).
    public func blendWeights(toward source: PretrainedModel, alpha: Float) throws {
        try blendWeights(toward: Dictionary(source.namedWeights, uniquingKeysWith: { first, _ in first }),
                         alpha: alpha, source: source.directory.path)
    }

    /// Sets every weight to the tensor of the same name in the safetensors `file` (a checkpoint's copy
    /// of this model's weights), in place.
    public func replaceWeights(from file: SafeTensorsFile) throws {
        var tensors: [String: Tensor] = [:]
        for (name, _) in namedWeights where file.info(name) != nil { tensors[name] = try file.tensor(name) }
        try blendWeights(toward: tensors, alpha: 1, source: file.url.path)
    }

    /// The blend toward `sources` by name (`alpha` 1 copies them exactly). Weights still read from a
    /// checkpoint's memory mapping are first copied into memory the engine owns. Every weight needs a
    /// source of its shape; otherwise nothing changes and the error names it.
    private func blendWeights(toward sources: [String: Tensor], alpha: Float, source: String) throws {
        for (name, weight) in namedWeights {
            guard let other = sources[name], other.shape == weight.shape else {
                throw ModelError.invalidFile(path: source, problem: "has no weight '\(name)' of shape \(weight.shape) "
                    + "for the model \(directory.path); both must be the same architecture")
            }
        }
        updateParameters { _, tensor in tensor.isMemoryMapped ? tensor.copied() : tensor }
        let keep = 1 - alpha
        for (name, weight) in namedWeights {
            sources[name]!.withUnsafeElements { from in
                weight.withUnsafeMutableElements { to in
                    if alpha == 1 {
                        for index in to.indices { to[index] = from[index] }
                    } else {
                        for index in to.indices { to[index] = to[index] * keep + alpha * from[index] }
                    }
                }
            }
        }
    }
}
