import XCTest
@testable import FledgeRL

/// RLOO's advantages and loss against TRL 1.16's `RLOOTrainer` (advantages transcribed in the
/// fixture script, the loss from TRL's own `_compute_loss`).
final class RLOOTests: XCTestCase {
    func testAdvantagesAndLossMatchTRL() throws {
        for fixture in try ReferenceFixture.load("rloo").cases {
            let name = fixture.name
            let counts = try fixture.integers("counts")
            let rewards = try XCTUnwrap(fixture.object["rewards"] as? [Any]).map { $0 as? Double }
            let clip = fixture.has("reward_clip_range") ? try fixture.doubles("reward_clip_range") : nil
            let advantages = RLOOAdvantages(groupSize: try XCTUnwrap(fixture.object["num_generations"] as? Int),
                                            beta: try fixture.double("beta"), rewardClipRange: clip.map { $0[0]...$0[1] },
                                            normalizeAdvantages: try fixture.bool("normalize_advantages"))
            let old = try fixture.floats("old_logprobs")
            let computed = advantages.compute(rewards: rewards, oldLogProbs: old, referenceLogProbs: try fixture.floats("ref_logprobs"),
                                              counts: counts)
            assertClose(computed.advantages.map(Double.init), try fixture.doubles("expected_advantages"), "\(name) advantages")

            let newLogProbs = try fixture.floats("new_logprobs")
            let logProbs = Tensor(shape: [newLogProbs.count], values: newLogProbs)
            logProbs.requiresGrad = true
            let loss = RLOOLoss(epsilonLow: try fixture.double("epsilon"), epsilonHigh: try fixture.double("epsilon_high"))
            let result = loss.compute(logProbs: logProbs, counts: counts, oldSequenceLogProbs: computed.oldSequenceLogProbs,
                                      advantages: computed.advantages)
            result.loss.backward()
            assertClose([Double(result.loss.item())], [try fixture.double("loss")], "\(name) loss")
            assertClose(try XCTUnwrap(logProbs.grad), try fixture.doubles("new_logprobs_grad"), "\(name) gradient")
            assertMetrics(computed.metrics.merging(result.metrics) { $1 }, try fixture.metrics(), name)
        }
    }

    func testLeaveOneOutBaselineSkipsUnscoredCompletions() {
        let advantages = RLOOAdvantages(groupSize: 3, beta: 0)
        let result = advantages.compute(rewards: [1, 4, nil, 2, nil, nil], oldLogProbs: [], referenceLogProbs: nil,
                                        counts: [0, 0, 0, 0, 0, 0])
        // Group 1: 1 − 4 and 4 − 1; the unscored one 0. Group 2: one scored completion, no baseline.
        XCTAssertEqual(result.advantages, [-3, 3, 0, 0, 0, 0])
    }

    func testConfigSettings() {
        var config = RLOOConfig()
        config.rewardClipRange = [-1, 2]
        config.generation.epsilonHigh = 0.3
        let advantages = RLOOAdvantages(config: config)
        XCTAssertEqual(advantages.groupSize, 2)
        XCTAssertEqual(advantages.beta, 0.05)
        XCTAssertEqual(advantages.rewardClipRange, -1...2)
        let loss = RLOOLoss(config: config)
        XCTAssertEqual(loss.epsilonLow, 0.2)
        XCTAssertEqual(loss.epsilonHigh, 0.3)
    }
}
