import Foundation
import XCTest
@testable import FledgeRL

/// Loading `model_name_or_path` for training.
final class TrainingModelsTests: XCTestCase {
    func testLoRAOrFullFineTuningFromTheRunFields() throws {
        var run = RunArguments()
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        run.loraR = 4
        run.loraTargetModules = ["q_proj", "down_proj"]
        let lora = try TrainingModels.load(run, seed: 1, gradientCheckpointing: true)
        XCTAssert(lora.hasAdapters)
        XCTAssert(lora.gradientCheckpointing)
        XCTAssertEqual(lora.trainableParameters.map(\.name), [
            "model.layers.0.self_attn.q_proj.lora_A.weight", "model.layers.0.self_attn.q_proj.lora_B.weight",
            "model.layers.0.mlp.down_proj.lora_A.weight", "model.layers.0.mlp.down_proj.lora_B.weight",
        ])
        XCTAssertEqual(lora.trainableParameters[0].tensor.shape, [4, 24])

        run.usePeft = false
        let full = try TrainingModels.load(run, seed: 1, gradientCheckpointing: false)
        XCTAssertFalse(full.hasAdapters)
        XCTAssertEqual(full.trainableParameters.count, full.namedWeights.count)
    }

    func testMissingOrWrongModelDirectories() throws {
        var run = RunArguments()
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("model_name_or_path is not set"), "\(error)")
        }
        run.modelNameOrPath = "/nonexistent/fledge-model"
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("/nonexistent/fledge-model: no such directory"), "\(error)")
        }
        XCTAssertThrowsError(try TrainingModels.tokenizer(run))
        run.modelNameOrPath = SFTFixtures.modelDirectory.path
        run.usePeft = true
        run.loraTargetModules = ["qkv_proj"]
        XCTAssertThrowsError(try TrainingModels.load(run, seed: 0, gradientCheckpointing: false)) { error in
            XCTAssert("\(error)".contains("'qkv_proj' matches no module"), "\(error)")
        }
    }
}
