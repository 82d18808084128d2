import Foundation
import FledgeLM

/// A causal LM or a sequence classifier trains with LoRA adapters (checkpoints hold the PEFT adapter files) or fully
/// (checkpoints hold a float32 model directory); the adapters' dropout generators are its random
/// state. `trainableParameters` comes from the model itself.
extension PretrainedModel: TrainableModel {
    public func saveTrainedWeights(to directory: URL) throws {
        if hasAdapters {
            try saveAdapter(to: directory)
        } else {
            try saveModel(to: directory, mergeAdapters: false, dtype: .float32)
        }
    }

    public func loadTrainedWeights(from directory: URL) throws {
        if hasAdapters {
            try loadAdapter(from: directory)
        } else {
            try loadTrainableWeights(from: directory.appendingPathComponent("model.safetensors"))
        }
    }

    public var randomStates: [String: UInt64] { adapterDropoutStates }

    public func restoreRandomStates(_ states: [String: UInt64]) throws {
        let missing = restoreAdapterDropoutStates(states)
        guard missing.isEmpty else {
            throw TrainingError.checkpoint(path: CheckpointFile.randomStates, problem: "no dropout generator state for "
                + missing.joined(separator: ", ") + "; resume with the LoRA settings the checkpoint was trained with")
        }
    }
}
