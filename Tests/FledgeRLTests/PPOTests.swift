import XCTest
@testable import FledgeRL

/// PPO's rewards, advantages, returns and losses against TRL 1.12's `PPOTrainer.train`
/// (transcribed in the fixture script; `masked_whiten` is TRL's own).
final class PPOTests: XCTestCase {
    func testRolloutTargetsAndLossMatchTRL() throws {
        for fixture in try ReferenceFixture.load("ppo").cases {
            let config = try fixture.child("config")
            let settings = PPOSettings(
                klCoef: try config.double("kl_coef"),
                klEstimator: try XCTUnwrap(KLEstimator(rawValue: try XCTUnwrap(config.object["kl_estimator"] as? String))),
                whitenRewards: try config.bool("whiten_rewards"), gamma: try config.double("gamma"), lam: try config.double("lam"),
                cliprange: try config.double("cliprange"), cliprangeValue: try config.double("cliprange_value"),
                vfCoef: try config.double("vf_coef"))
            let width = try XCTUnwrap(config.object["response_length"] as? Int)
            let rollout = PPORollout(responseLength: width, logProbs: try fixture.floats("logprobs"),
                                     referenceLogProbs: try fixture.floats("ref_logprobs"), values: try fixture.floats("values"),
                                     scores: try fixture.floats("scores"), sequenceLengths: try fixture.integers("sequence_lengths"))
            let targets = PPOTargets(rollout, settings: settings)
            let name = fixture.name
            assertClose(targets.kl.map(Double.init), try fixture.doubles("expected_kl"), "\(name) kl")
            assertClose(targets.rewards.map(Double.init), try fixture.doubles("expected_rewards"), "\(name) rewards")
            assertClose(targets.advantages.map(Double.init), try fixture.doubles("expected_advantages"), "\(name) advantages")
            assertClose(targets.returns.map(Double.init), try fixture.doubles("expected_returns"), "\(name) returns")

            let rows = try fixture.integers("minibatch_rows")
            let shape = [rows.count, width]
            let logProbs = Tensor(shape: shape, values: try fixture.floats("new_logprobs"))
            let predictions = Tensor(shape: shape, values: try fixture.floats("value_predictions"))
            logProbs.requiresGrad = true
            predictions.requiresGrad = true
            let result = PPOLoss(settings: settings).compute(logProbs: logProbs, valuePredictions: predictions,
                                                             targets: targets.rows(rows))
            result.loss.backward()
            assertClose([Double(result.loss.item())], [try fixture.double("loss")], "\(name) loss")
            assertClose(try XCTUnwrap(logProbs.grad), try fixture.doubles("new_logprobs_grad"), "\(name) log-prob gradient")
            assertClose(try XCTUnwrap(predictions.grad), try fixture.doubles("value_predictions_grad"), "\(name) value gradient")
            assertMetrics(targets.metrics.merging(result.metrics) { $1 }, try fixture.metrics(), name)
        }
    }

    func testTheScoreLandsAfterTheLastTokenOrOnItWhenTheWindowIsFull() {
        let rollout = PPORollout(responseLength: 3, logProbs: Array(repeating: -1, count: 9),
                                 referenceLogProbs: Array(repeating: -1, count: 9), values: Array(repeating: 0, count: 9),
                                 scores: [5, 7, 9], sequenceLengths: [0, 2, -1])
        let targets = PPOTargets(rollout, settings: PPOSettings())
        XCTAssertEqual(targets.rewards, [0, 5, 0, 0, 0, 7, 9, 0, 0])
        XCTAssertEqual(targets.logProbs, [-1, 1, 1, -1, -1, -1, 1, 1, 1], "padding holds INVALID_LOGPROB")
    }

    func testSettingsFromConfig() {
        var config = PPOConfig()
        config.klEstimator = .k3
        config.whitenRewards = true
        config.lam = 0.9
        let settings = PPOSettings(config: config)
        XCTAssertEqual(settings, PPOSettings(klCoef: 0.05, klEstimator: .k3, whitenRewards: true, gamma: 1, lam: 0.9,
                                             cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1))
    }
}
