import Foundation
import FledgeLM

extension LanguageModel: TrainableModel {
    /// LoRA runs save a PEFT adapter; full fine-tuning saves a model directory (float32).
    public func saveTrainedWeights(to directory: URL) throws {
        if hasAdapters { try saveAdapter(to: directory) } else { try saveModel(to: directory, mergeAdapters: false) }
    }

    public func loadTrainedWeights(from directory: URL) throws {
        let name = hasAdapters ? "adapter_model.safetensors" : "model.safetensors"
        try loadTrainableWeights(from: directory.appendingPathComponent(name))
    }

    public var randomStates: [String: UInt64] { [:] }

    public func restoreRandomStates(_ states: [String: UInt64]) throws {}
}
