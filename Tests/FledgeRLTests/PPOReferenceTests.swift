import Foundation
import XCTest
@testable import FledgeRL

/// A PPO rollout and micro-batch on real (tiny) models against TRL 1.12's `PPOTrainer` (fixtures from
/// `Scripts/reference/make_ppo_trainer_fixtures.py`): log-probs of the LoRA policy and of the
/// reference (adapters off), per-position values, reward-model scores with the missing-EOS penalty,
/// rewards, advantages, returns and metrics; then one micro-batch's loss, metrics and gradients.
///
/// Both sides run float32 forward passes: log-probs and values agree within 1e-6 relative, and the
/// quantities derived from them within 5e-5 of their scale, because k3's e^r − 1 − r and the
/// advantage whitening magnify the last-bit differences of the log-probs.
final class PPOReferenceTests: XCTestCase {
    static let derivedTolerance = 5e-5

    static var fixtures: URL { fixtureURL("ppo") }

    func testRolloutAndMicroBatchMatchTRL() throws {
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(
            with: Data(contentsOf: Self.fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
        let heads = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("heads.safetensors"))
        let policy = try SFTFixtures.model()
        try policy.loadAdapter(from: Self.fixtures.appendingPathComponent("policy_adapter"))
        func classifier(_ head: String) throws -> SequenceClassifier {
            let model = try SequenceClassifier(directory: SFTFixtures.modelDirectory, addingScoreHead: 1, seed: 0)
            model.score.weight = try heads.tensor(head)
            return model
        }
        let value = try classifier("value"), reward = try classifier("reward")
        value.makeFullyTrainable()
        let models = PolicyAndValue(policy: policy, value: value)

        let promptIds = try XCTUnwrap(expected["prompt_ids"] as? [[Int]])
        let rows = promptIds.map { PromptDataset.Row(prompt: .string(""), promptIds: $0, columns: JSONObject()) }
        let ppo = try PPO(models: models, tokenizer: try SFTFixtures.tokenizer(),
                          dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "prompts")),
                          scorer: .rewardModel(reward), config: try Self.config(expected), reference: .adaptersDisabled(policy))
        let rollout = try ppo.rolloutMaker.score(rows, responses: try XCTUnwrap(expected["responses"] as? [[Int]]))
        let targets = rollout.targets
        XCTAssertEqual(targets.sequenceLengths, expected["sequence_lengths"] as? [Int])
        for (name, values) in [("logprobs", targets.logProbs), ("values", targets.values), ("rewards", targets.rewards),
                               ("advantages", targets.advantages), ("returns", targets.returns)] {
            let tolerance = ["logprobs", "values"].contains(name) ? 1e-6 : Self.derivedTolerance
            assertClose(values.map(Double.init), try XCTUnwrap(expected[name] as? [Double]), tolerance: tolerance, "rollout \(name)")
        }
        assertMetrics(rollout.metrics, try XCTUnwrap(expected["rollout_metrics"] as? [String: Double]),
                      tolerance: Self.derivedTolerance, "rollout metrics")

        // The weights move, then one micro-batch.
        try policy.loadAdapter(from: Self.fixtures.appendingPathComponent("policy_adapter_updated"))
        let updated = try heads.tensor("value_updated").toArray()
        value.score.weight.withUnsafeMutableElements { for i in $0.indices { $0[i] = updated[i] } }
        let result = try ppo.loss(of: PPO.MicroBatch(rollout: rollout, rows: try XCTUnwrap(expected["micro_batch"] as? [Int])))
        assertClose([Double(result.loss.item())], [try XCTUnwrap(expected["loss"] as? Double)], tolerance: Self.derivedTolerance,
                    "micro-batch loss")
        assertMetrics(result.metrics, try XCTUnwrap(expected["loss_metrics"] as? [String: Double]),
                      tolerance: Self.derivedTolerance, "micro-batch metrics")
        result.loss.backward()
        let gradients = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("gradients.safetensors"))
        XCTAssertEqual(gradients.names.sorted(), expected["gradients"] as? [String])
        for name in gradients.names {
            let grad = try XCTUnwrap(models.trainableParameters.first { $0.name == name }?.tensor.grad, name)
            assertClose(grad, try gradients.tensor(name).toArray().map(Double.init), tolerance: Self.derivedTolerance,
                        "gradient \(name)")
        }
    }

    static func config(_ expected: [String: Any]) throws -> PPOConfig {
        let fields = try XCTUnwrap(expected["config"] as? [String: Any])
        var config = PPOConfig()
        config.responseLength = try XCTUnwrap(fields["response_length"] as? Int)
        config.temperature = try XCTUnwrap(fields["temperature"] as? Double)
        config.stopToken = .eos
        config.missingEOSPenalty = fields["missing_eos_penalty"] as? Double
        config.klCoef = try XCTUnwrap(fields["kl_coef"] as? Double)
        config.klEstimator = try XCTUnwrap(KLEstimator(rawValue: try XCTUnwrap(fields["kl_estimator"] as? String)))
        config.whitenRewards = try XCTUnwrap(fields["whiten_rewards"] as? Bool)
        config.gamma = try XCTUnwrap(fields["gamma"] as? Double)
        config.lam = try XCTUnwrap(fields["lam"] as? Double)
        config.cliprange = try XCTUnwrap(fields["cliprange"] as? Double)
        config.vfCoef = try XCTUnwrap(fields["vf_coef"] as? Double)
        config.cliprangeValue = try XCTUnwrap(fields["cliprange_value"] as? Double)
        config.training.perDeviceTrainBatchSize = 4
        config.training.gradientAccumulationSteps = 1
        return config
    }
}
