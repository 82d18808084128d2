import Foundation
import XCTest
@testable import FledgeRL

/// PPO through the trainer loop on the tiny fixture model.
final class PPOTrainingTests: TemporaryDirectoryTestCase {
    /// Rewards responses by the share of their tokens that are digits.
    struct DigitShare: RewardFunction {
        let name = "digits"
        func score(_ samples: [RewardSample]) throws -> [Double?] {
            samples.map { sample in
                Double(sample.completion.filter(\.isNumber).count) / Double(max(sample.completion.count, 1))
            }
        }
    }

    private func ppo(steps: Int, output: String) throws -> (PPO, PolicyAndValue) {
        let tokenizer = try SFTFixtures.tokenizer()
        let rows = (0..<8).map { #"{"prompt": "Count from \#($0):"}"# }
        let dataset = try PromptDataset(file: try writeLines(rows, to: "prompts.jsonl"), tokenizer: tokenizer)
        var config = PPOConfig()
        config.responseLength = 5
        config.stopToken = .eos
        config.missingEOSPenalty = 0.1
        config.numPPOEpochs = 2
        config.numMiniBatches = 2
        config.training.perDeviceTrainBatchSize = 2
        config.training.gradientAccumulationSteps = 2
        config.training.maxSteps = steps
        config.training.learningRate = 1e-3
        config.training.optim = .adamwTorch
        config.training.loggingSteps = 1
        config.training.saveSteps = 4
        config.training.outputDir = directory.appendingPathComponent(output).path
        let policy = try SFTFixtures.model()
        try policy.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: 0, seed: 1))
        let value = try PolicyAndValue.valueModel(policyDirectory: SFTFixtures.modelDirectory, rewardModel: nil,
                                                  lora: LoRAOptions(r: 4, alpha: 8, dropout: 0, seed: 2), seed: 3)
        let models = PolicyAndValue(policy: policy, value: value)
        let ppo = try PPO(models: models, tokenizer: tokenizer, dataset: dataset, scorer: .functions([DigitShare()]),
                          config: config, reference: .adaptersDisabled(policy))
        return (ppo, models)
    }

    /// Two rollouts of four responses, each trained for 2 PPO epochs × 2 mini-batches of 2
    /// micro-batches: eight optimizer steps with finite metrics under TRL's names. The first step after
    /// a rollout trains on the weights that sampled it (ratio 1, nothing clipped); the checkpoints hold
    /// the policy's adapter and the value model's trainable tensors, whose score head has moved.
    func testRunsWithFiniteMetrics() throws {
        let (ppo, models) = try ppo(steps: 8, output: "run")
        XCTAssertEqual(ppo.geometry.stepsPerRollout, 4)
        XCTAssertEqual(ppo.trainingArguments.gradientAccumulationSteps, 1)
        let head = models.value.score.weight.toArray()
        let trainer = try Trainer(algorithm: ppo, model: models, arguments: ppo.trainingArguments)
        let history = try trainer.train().state.logHistory
        XCTAssertEqual(history.count, 8)
        let names = ["loss", "objective/kl", "objective/entropy", "objective/scores", "objective/rlhf_reward",
                     "objective/non_score_reward", "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg",
                     "loss/value_avg", "val/clipfrac_avg", "val/ratio", "val/num_eos_tokens", "policy/entropy_avg", "grad_norm"]
        for record in history {
            for name in names { XCTAssert(record[name]?.isFinite == true, "step \(record.step): \(name) = \(String(describing: record[name]))") }
        }
        for step in [0, 4] {
            XCTAssertLessThan(history[step]["policy/approxkl_avg"]!, 1e-8, "the first step of a rollout is on-policy")
            XCTAssertEqual(history[step]["policy/clipfrac_avg"]!, 0)
        }
        XCTAssertEqual(history[0]["objective/kl"]!, 0, accuracy: 1e-6, "fresh adapters: the policy is the reference")
        XCTAssertNotEqual(models.value.score.weight.toArray(), head)
        let checkpoint = directory.appendingPathComponent("run/checkpoint-8")
        for file in ["adapter_model.safetensors", PolicyAndValue.valueFileName] {
            XCTAssert(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(file).path), file)
        }
    }

    /// A run resumed from its step-4 checkpoint (between rollouts) ends with the weights of a run
    /// that went straight through.
    func testResumeBetweenRolloutsContinuesExactly() throws {
        let (straight, straightModels) = try ppo(steps: 8, output: "straight")
        _ = try Trainer(algorithm: straight, model: straightModels, arguments: straight.trainingArguments).train()
        let (first, firstModels) = try ppo(steps: 8, output: "resumed")
        var arguments = first.trainingArguments
        let trainer = try Trainer(algorithm: first, model: firstModels, arguments: arguments)
        XCTAssertEqual(try trainer.trainRecording(stoppingAt: 4).outcome.status, .stopped)
        let (second, secondModels) = try ppo(steps: 8, output: "resumed")
        arguments.resumeFromCheckpoint = "true"
        _ = try Trainer(algorithm: second, model: secondModels, arguments: arguments).train()
        XCTAssertEqual(maxDifference(secondModels.trainableParameters, straightModels.trainableParameters), 0)
    }

    /// Reward settings that cannot work are refused with the field and the fix: a reward model that
    /// is a causal LM, a missing directory, both a reward model and reward functions, no reward.
    func testRewardSettingsThatCannotWork() throws {
        func assertError(_ configure: (inout PPOConfig) -> Void, contains parts: [String], line: UInt = #line) {
            var config = PPOConfig()
            config.rewardModelPath = nil
            configure(&config)
            XCTAssertThrowsError(try PPOScorer.make(config: config), line: line) { error in
                for part in parts { XCTAssert("\(error)".contains(part), "'\(part)' not in: \(error)", line: line) }
            }
        }
        assertError({ $0.rewardModelPath = SFTFixtures.modelDirectory.path },
                    contains: ["reward_model_path", "is a causal language model", "sequence classifier"])
        assertError({ $0.rewardModelPath = "EleutherAI/pythia-160m" },
                    contains: ["reward_model_path EleutherAI/pythia-160m: no such directory", "reward_model_path: null"])
        assertError({ $0.rewardModelPath = SFTFixtures.modelDirectory.path; $0.run.rewardFuncs = ["format"] },
                    contains: ["either reward_model_path or reward_funcs"])
        assertError({ _ in }, contains: ["PPO needs a reward"])
        XCTAssertThrowsError(try PolicyAndValue.valueModel(policyDirectory: SFTFixtures.modelDirectory,
                                                           rewardModel: SFTFixtures.modelDirectory, lora: nil, seed: 0)) {
            XCTAssert("\($0)".contains("is a causal language model"), "\($0)")
        }
    }
}
