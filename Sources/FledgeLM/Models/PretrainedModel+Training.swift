import Foundation
import FledgeNN
import FledgeTensor

extension PretrainedModel {
    /// Makes every weight a trainable leaf, for full fine-tuning.
    ///
    /// float32 weights loaded from a checkpoint borrow the file's copy-on-write memory mapping;
    /// they are first copied into memory the engine owns (and counts), so that optimizer updates
    /// never touch the mapping. A tied output head stays the embedding: one tensor, one parameter.
    /// A quantized base (loaded with a `BaseQuantization`) is frozen: train adapters on it instead.
    public func makeFullyTrainable() {
        precondition(baseQuantization == nil, "a \(baseQuantization!.rawValue) base is frozen: attach LoRA adapters to train on it")
        // The fused q/k/v and gate/up layers hold views of owned buffers; these stay as they are.
        updateParameters { _, tensor in tensor.isMemoryMapped ? tensor.copied() : tensor }
        for (_, weight) in namedWeights { weight.requiresGrad = true }
    }

    /// The trainable tensors, for optimizers, gradient clipping and checkpoints, in a fixed order:
    /// trainable base weights under their checkpoint names (`namedWeights` order; with adapters, the
    /// modules trained whole beside them, `lm_head.weight`, as PEFT saves them without `base_model.model.`), then each LoRA
    /// adapter's A and B (and DoRA magnitude) under PEFT's saved names without the `base_model.model.` prefix
    /// (`model.layers.0.self_attn.q_proj.lora_A.weight`, `….lora_B.weight`, `….lora_magnitude_vector`), module by module.
    public var trainableParameters: [Parameter] {
        var result = namedWeights.filter(\.1.requiresGrad).map { Parameter(name: $0.0, tensor: $0.1) }
        for (name, adapter) in loraModules {
            result.append(Parameter(name: "\(name).lora_A.weight", tensor: adapter.a))
            result.append(Parameter(name: "\(name).lora_B.weight", tensor: adapter.b))
            if let magnitude = adapter.magnitude { result.append(Parameter(name: "\(name).lora_magnitude_vector", tensor: magnitude)) }
        }
        return result
    }

    /// Sets every trainable parameter's values from the tensor of the same name in the safetensors
    /// `file`, in place (so optimizers keep their parameters): a checkpoint's `model.safetensors`
    /// for full fine-tuning, or an `adapter_model.safetensors` (whose keys carry PEFT's
    /// `base_model.model.` prefix) for LoRA. Tensors of the file that are not trainable parameters
    /// (the frozen weights of a full checkpoint) are ignored; a parameter missing from the file or
    /// stored with another shape is an error naming it, and then nothing has been changed.
    public func loadTrainableWeights(from file: URL) throws {
        let source = try SafeTensorsFile(url: file)
        let parameters = trainableParameters
        let keys = try parameters.map { parameter in
            guard let key = [parameter.name, "base_model.model." + parameter.name].first(where: { source.info($0) != nil }) else {
                throw ModelError.invalidFile(
                    path: file.path, problem: "has no tensor '\(parameter.name)' for that trainable parameter; "
                        + "pass a file saved from a model with the same trainable parameters")
            }
            let shape = source.info(key)!.shape
            guard shape == parameter.tensor.shape else {
                throw ModelError.invalidFile(
                    path: file.path, problem: "holds '\(key)' as \(shape), and the model's parameter is \(parameter.tensor.shape)")
            }
            return key
        }
        for (parameter, key) in zip(parameters, keys) { try parameter.tensor.assign(source.tensor(key)) }
    }
}

extension Tensor {
    /// Overwrites the elements with those of `values` (same shape), in place.
    func assign(_ values: Tensor) {
        precondition(values.shape == shape, "assign: \(values.shape) into \(shape)")
        values.withUnsafeElements { source in
            withUnsafeMutableElements { $0.baseAddress!.update(from: source.baseAddress!, count: source.count) }
        }
    }
}
