import Foundation
import XCTest
@testable import FledgeRL

/// `sync_ref_model` (TR-DPO's soft update, TRL's `SyncRefModelCallback`): every `ref_model_sync_steps`
/// steps the reference becomes `α · policy + (1 − α) · reference`; refused where TRL refuses it; and a
/// resumed run continues from the moved reference, which the checkpoint keeps.
final class ReferenceSyncTests: TemporaryDirectoryTestCase {
    func testRefusedWhereThereIsNoSeparateReferenceToMove() throws {
        let lora = try resolve(GRPOConfig.self, "sync_ref_model: true\nuse_peft: true\nbeta: 0.04")
        XCTAssert(lora.report.errors.contains { $0.field == "sync_ref_model" && $0.text.contains("adapters off") }, "\(lora.report.errors)")
        let noKL = try resolve(RLOOConfig.self, "sync_ref_model: true\nbeta: 0")
        XCTAssert(noKL.report.errors.contains { $0.field == "sync_ref_model" && $0.text.contains("beta is 0") }, "\(noKL.report.errors)")
        let precomputed = try resolve(DPOConfig.self, "sync_ref_model: true\nprecompute_ref_log_probs: true")
        XCTAssert(precomputed.report.errors.contains { $0.field == "sync_ref_model" && $0.text.contains("stale") },
                  "\(precomputed.report.errors)")
        XCTAssert(try resolve(DPOConfig.self, "sync_ref_model: true\nref_model_sync_steps: 4\nref_model_mixup_alpha: 0.9").report.isUsable)
        XCTAssertFalse(try resolve(GRPOConfig.self, "sync_ref_model: true\nref_model_mixup_alpha: 1.5\nbeta: 0.04").report.isUsable)
    }

    private struct Run {
        let policy: [String: [Float]]
        let reference: [String: [Float]]
        let policyAtSyncs: [[String: [Float]]]
        let initialReference: [String: [Float]]
    }

    /// GRPO with full fine-tuning on the demo model, `beta` 0.04, the reference synced every 2 steps with α 0.5.
    private func run(_ name: String, stopAt: Int? = nil, resume: Bool = false) throws -> Run {
        let modelDirectory = GRPOTrainingTests.modelDirectory
        let tokenizer = try Tokenizer(directory: modelDirectory.path)
        let yaml = [
            "model_name_or_path: \(modelDirectory.path)", "output_dir: \(directory.path)/\(name)", "reward_funcs: [answer]",
            "per_device_train_batch_size: 8", "num_generations: 4", "max_completion_length: 5", "max_steps: 4",
            "logging_steps: 1", "save_steps: 3", "gradient_checkpointing: false", "learning_rate: 0.003", "beta: 0.04",
            "sync_ref_model: true", "ref_model_sync_steps: 2", "ref_model_mixup_alpha: 0.5",
        ] + (resume ? ["resume_from_checkpoint: true"] : [])
        let config = try resolve(GRPOConfig.self, yaml.joined(separator: "\n")).config
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let reference = try LanguageModel(directory: modelDirectory)
        func weights(_ model: LanguageModel) -> [String: [Float]] {
            Dictionary(uniqueKeysWithValues: model.namedWeights.map { ($0.0, $0.1.toArray()) })
        }
        let initialReference = weights(reference)
        let rows = ArithmeticTask().problems(count: 16, seed: 11).map { problem in
            PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                              columns: JSONObject([("answer", .string(problem.answer))]))
        }
        let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)")),
                            rewards: try BuiltInRewards.make(config: config), config: config, reference: .frozen(reference))
        let trainer = try Trainer(algorithm: grpo, model: model, arguments: config.training)
        let observer = PolicyAtSteps(model: model, steps: [2, 4], weights: weights)
        observer.stopAt = stopAt
        observer.stopRequest = trainer.stopRequest
        trainer.observer = observer
        _ = try trainer.train()
        return Run(policy: weights(model), reference: weights(reference), policyAtSyncs: observer.recorded,
                   initialReference: initialReference)
    }

    func testTheReferenceMovesTowardThePolicyAndResumesExactly() throws {
        let straight = try run("straight")
        XCTAssertEqual(straight.policyAtSyncs.count, 2)
        XCTAssertNotEqual(straight.reference, straight.initialReference)
        // r2 = r0 · 0.5 + 0.5 · p2, r4 = r2 · 0.5 + 0.5 · p4, element by element in float32 as TRL's mul_/add_ compute it.
        for (name, initial) in straight.initialReference {
            var expected = initial
            for policy in straight.policyAtSyncs {
                let p = policy[name]!
                for i in expected.indices { expected[i] = expected[i] * 0.5 + 0.5 * p[i] }
            }
            XCTAssertEqual(straight.reference[name]!, expected, name)
        }
        _ = try run("resumed", stopAt: 3)
        let checkpoint = directory.appendingPathComponent("resumed/checkpoint-3/reference_model.safetensors")
        XCTAssert(FileManager.default.fileExists(atPath: checkpoint.path), "the checkpoint keeps the moved reference")
        let resumed = try run("resumed", resume: true)
        XCTAssertEqual(resumed.policy, straight.policy)
        XCTAssertEqual(resumed.reference, straight.reference)
    }
}

/// Records the policy's weights after the given steps, and asks for a stop at `stopAt`.
private final class PolicyAtSteps: TrainingObserver {
    let model: LanguageModel
    let steps: Set<Int>
    let weights: (LanguageModel) -> [String: [Float]]
    var recorded: [[String: [Float]]] = []
    var stopAt: Int?
    weak var stopRequest: StopRequest?

    init(model: LanguageModel, steps: Set<Int>, weights: @escaping (LanguageModel) -> [String: [Float]]) {
        self.model = model
        self.steps = steps
        self.weights = weights
    }

    func trainingDidStep(_ progress: StepProgress) {
        if steps.contains(progress.step) { recorded.append(weights(model)) }
        if progress.step == stopAt { stopRequest?.request() }
    }
}
