import Foundation
import XCTest
@testable import FledgeRL

/// GRPO's advantages against TRL's `_generate_and_score_completions` (fixtures from
/// make_grpo_fixtures.py): every `scale_rewards`, both `multi_objective_aggregation`s, weights, functions without a value (None), an
/// unscorable completion, zero-std groups and groups with a single scored completion.
final class GRPOAdvantageTests: XCTestCase {
    func testAdvantagesAndRewardMetricsMatchTRL() throws {
        let cases = try GRPOFixtures.decode([GRPOFixtures.AdvantageCase].self, "advantages.json")
        XCTAssertEqual(cases.count, 8)
        var worst = 0.0
        for fixture in cases {
            let names = fixture.rewardNames
            let scale = try XCTUnwrap(ScaleRewards(rawValue: fixture.scaleRewards))
            let aggregation = try XCTUnwrap(MultiObjectiveAggregation(rawValue: fixture.multiObjectiveAggregation))
            let advantages = try GRPOAdvantages(functionNames: names, rewardWeights: fixture.rewardWeights,
                                                groupSize: fixture.numGenerations, scaleRewards: scale, aggregation: aggregation)
            let (values, metrics) = advantages.compute(RewardScores(names: names, values: names.map { fixture.rewards[$0]! }))
            XCTAssertEqual(values.count, fixture.advantages.count, fixture.name)
            for (index, (actual, expected)) in zip(values, fixture.advantages).enumerated() {
                let error = Swift.abs(actual - expected) / Swift.max(Swift.abs(expected), 1)
                worst = Swift.max(worst, error)
                XCTAssertLessThanOrEqual(error, 1e-5, "\(fixture.name) completion \(index): \(actual) vs TRL \(expected)")
            }
            XCTAssertEqual(Set(metrics.keys), Set(fixture.metrics.keys), fixture.name)
            for (name, expected) in fixture.metrics {
                let actual = try XCTUnwrap(metrics[name], "\(fixture.name): \(name)")
                guard let expected else {
                    XCTAssert(actual.isNaN, "\(fixture.name): \(name) is \(actual), TRL logs NaN")
                    continue
                }
                XCTAssertEqual(actual, expected, accuracy: 1e-5 * Swift.max(Swift.abs(expected), 1), "\(fixture.name): \(name)")
            }
        }
        print(String(format: "  %d cases: advantages max error %.1e", cases.count, worst))
    }

    /// TRL's worked example: one group [1, 0, 0, 1] gives ±0.5 / (0.57735 + 1e-4), or ±0.5 unscaled.
    func testWorkedExample() throws {
        let scores = RewardScores(names: ["correct"], values: [[1, 0, 0, 1]])
        let group = try GRPOAdvantages(functionNames: ["correct"], rewardWeights: nil, groupSize: 4, scaleRewards: .group)
        XCTAssertEqual(group.compute(scores).advantages[0], 0.5 / ((1.0 / 3).squareRoot() + 1e-4), accuracy: 1e-12)
        let none = try GRPOAdvantages(functionNames: ["correct"], rewardWeights: nil, groupSize: 4, scaleRewards: .none)
        XCTAssertEqual(none.compute(scores).advantages, [0.5, -0.5, -0.5, 0.5])
    }

    func testWeightCountMismatchNamesTheFunctions() {
        XCTAssertThrowsError(try GRPOAdvantages(functionNames: ["answer", "format"], rewardWeights: [1, 0.5, 2],
                                                groupSize: 4, scaleRewards: .group)) { error in
            XCTAssert("\(error)".contains("reward_weights has 3 values for 2 reward functions (answer, format)"), "\(error)")
        }
    }
}
