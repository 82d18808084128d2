import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Gradient checkpointing per decoder layer changes memory, not results: the same losses and
/// bitwise the same gradients for LoRA (with dropout, micro-batches forwarded before either is
/// backpropagated) and for full fine-tuning, with a lower activation peak.
final class GradientCheckpointingTests: XCTestCase {
    /// Losses and gradients (in `trainableParameters` order) of two micro-batches, both forwarded
    /// before either is backpropagated, as gradient accumulation with kept graphs would do.
    private func run(_ model: LanguageModel, checkpointing: Bool) throws -> (losses: [Float], grads: [[Float]]) {
        model.gradientCheckpointing = checkpointing
        let sequences = try LoRAFixtures.sequences()
        let first = try LoRAFixtures.weightedLoss(model)
        let second = model.sequenceLogProbs(Array(sequences.reversed()), scoredFrom: [1, 1, 1]).logProbs.sum()
        first.backward()
        second.backward()
        return ([first.item(), second.item()], model.trainableParameters.map { $0.tensor.grad!.toArray() })
    }

    private func loraModel() throws -> LanguageModel {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: 0.2, targetModules: ["all-linear"], seed: 3))
        var generator = SeededGenerator(seed: 4)
        for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = 0.4 * generator.nextUnitFloat() - 0.2 } }
        }
        return model
    }

    func testLoRAWithDropoutGradientsAreIdentical() throws {
        let plain = try run(loraModel(), checkpointing: false)
        let checkpointed = try run(loraModel(), checkpointing: true)
        XCTAssertEqual(plain.losses, checkpointed.losses)
        XCTAssertEqual(plain.grads.count, 28)
        XCTAssertEqual(plain.grads, checkpointed.grads, "LoRA gradients with and without checkpointing")
        let withoutDropout = try LanguageModel(directory: LoRAFixtures.base)
        try withoutDropout.loadAdapter(from: LoRAFixtures.peftAdapter)
        XCTAssertNotEqual(plain.losses[0], try LoRAFixtures.weightedLoss(withoutDropout).item(), "dropout was on")
    }

    func testFullFineTuningGradientsAreIdentical() throws {
        func model() throws -> LanguageModel {
            let model = try LanguageModel(directory: LoRAFixtures.base)
            model.makeFullyTrainable()
            return model
        }
        let plain = try run(model(), checkpointing: false)
        let checkpointed = try run(model(), checkpointing: true)
        XCTAssertEqual(plain.losses, checkpointed.losses)
        XCTAssertEqual(plain.grads, checkpointed.grads, "full fine-tuning gradients with and without checkpointing")
    }

    func testCheckpointingLowersThePeakOfATrainingStep() throws {
        let config: JSONObject = [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 256, "hidden_size": 128,
            "intermediate_size": 352, "num_hidden_layers": 6, "num_attention_heads": 4, "num_key_value_heads": 2,
            "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true,
        ]
        let sequences = (0..<4).map { row in (0..<128).map { ($0 * 31 + row * 17 + 5) % 256 } }
        var peaks: [Bool: Int] = [:]
        for (index, checkpointing) in [false, true].enumerated() {
            let model = try RandomModels.model(config, seed: 2, spread: 0.1)
            try model.addLoRA(LoRAOptions(r: 8, alpha: 16, targetModules: ["all-linear"], seed: UInt64(index)))
            model.gradientCheckpointing = checkpointing
            MemoryStats.resetPeak()
            let start = MemoryStats.liveBytes
            model.sequenceLogProbs(sequences, scoredFrom: Array(repeating: 1, count: 4)).logProbs.sum().backward()
            peaks[checkpointing] = MemoryStats.peakBytes - start
        }
        let (plain, checkpointed) = (peaks[false]!, peaks[true]!)
        print("peak engine memory of a LoRA training step (6 layers, hidden 128, 4 × 128 tokens): "
              + "\(plain / 1024) KiB without checkpointing, \(checkpointed / 1024) KiB with (\(String(format: "%.2f", Double(checkpointed) / Double(plain)))×)")
        XCTAssertLessThan(checkpointed, plain * 2 / 3)
    }
}
