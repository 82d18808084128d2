import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// `checkpointingMemoryBudget` (`gradient_checkpointing: auto`): a training pass is checkpointed
/// only when ``PretrainedModel/trainingActivationBytesPerToken`` times its tokens exceeds the
/// budget, and that estimate is of the order of the activations a pass really keeps.
final class CheckpointingBudgetTests: XCTestCase {
    private let sequences = (0..<4).map { row in (0..<96).map { ($0 * 31 + row * 17 + 5) % 256 } }

    private func model() throws -> LanguageModel {
        let config: JSONObject = [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 256, "hidden_size": 96,
            "intermediate_size": 256, "num_hidden_layers": 4, "num_attention_heads": 6, "num_key_value_heads": 2,
            "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true,
        ]
        let model = try RandomModels.model(config, seed: 2, spread: 0.1)
        try model.addLoRA(LoRAOptions(r: 8, alpha: 16, targetModules: ["all-linear"], seed: 1))
        return model
    }

    /// The engine's peak memory over one LoRA training pass of the four sequences.
    private func peak(checkpointing: Bool, budget: Int?) throws -> Int {
        let model = try model()
        model.gradientCheckpointing = checkpointing
        model.checkpointingMemoryBudget = budget
        MemoryStats.resetPeak()
        let start = MemoryStats.liveBytes
        model.sequenceLogProbs(sequences, scoredFrom: Array(repeating: 1, count: 4)).logProbs.sum().backward()
        return MemoryStats.peakBytes - start
    }

    func testAutoCheckpointsOnlyPassesOverTheBudget() throws {
        let plain = try peak(checkpointing: false, budget: nil)
        let checkpointed = try peak(checkpointing: true, budget: nil)
        let estimate = try model().trainingActivationBytesPerToken * sequences.count * sequences[0].count
        print("activations of a LoRA pass (4 layers, hidden 96, 4 × 96 tokens): estimated \(estimate / 1024) KiB; "
              + "measured peak \(plain / 1024) KiB without checkpointing, \(checkpointed / 1024) KiB with")
        XCTAssertLessThan(checkpointed, plain * 3 / 4)
        // The estimate is within a factor 2 of the measured peak without checkpointing (0.77× here: the peak also
        // holds the backward's gradients and scratch).
        XCTAssertGreaterThan(Double(estimate), 0.5 * Double(plain))
        XCTAssertLessThan(Double(estimate), 2 * Double(plain))
        // Peaks vary by a percent or so between runs (worker scratch buffers), far less than checkpointing's effect.
        let slack = (plain - checkpointed) / 5
        XCTAssertEqual(try peak(checkpointing: true, budget: estimate * 2), plain, accuracy: slack, "within the budget: not checkpointed")
        XCTAssertEqual(try peak(checkpointing: true, budget: estimate / 2), checkpointed, accuracy: slack, "over the budget: checkpointed")
        XCTAssertEqual(try peak(checkpointing: false, budget: estimate / 2), plain, accuracy: slack,
                       "the budget only matters with checkpointing on")
    }
}
