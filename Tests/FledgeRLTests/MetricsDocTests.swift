import XCTest
@testable import FledgeRL

/// What `docs/metrics.md` says about an on-policy GRPO loss: with `loss_type: grpo` it is 0 for whole
/// groups, with a token-weighted loss it is −Σᵢ Aᵢ·Lᵢ / N, nothing is clipped, and the gradient is
/// not zero.
final class MetricsDocTests: XCTestCase {
    func testOnPolicyLossIsNearZeroButItsGradientIsNot() throws {
        let counts = [3, 7, 2, 5, 4, 6]
        let scores = RewardScores(names: ["answer"], values: [[1, 0, 0, 0, 1, 1]])
        let advantages = try GRPOAdvantages(functionNames: ["answer"], rewardWeights: nil, groupSize: 3, scaleRewards: .group)
            .compute(scores).advantages
        XCTAssertEqual(advantages.reduce(0, +), 0, accuracy: 1e-12, "advantages are centred within each group")
        let total = counts.reduce(0, +)
        var generator = SeededGenerator(seed: 7)
        let values = (0..<total).map { _ in Float.random(in: -3 ... -0.1, using: &generator) }
        let tokenWeighted = -zip(advantages, counts).reduce(0) { $0 + $1.0 * Double($1.1) } / Double(total)
        XCTAssertGreaterThan(abs(tokenWeighted), 0.01, "the lengths were chosen to correlate with the advantages")

        for (lossType, expected) in [("grpo", 0.0), ("bnpo", tokenWeighted)] {
            let config = try resolve(GRPOConfig.self, "loss_type: \(lossType)\nbeta: 0", preset: .trl).config
            let logProbs = Tensor(shape: [total], values: values)
            logProbs.requiresGrad = true
            let result = GRPOLoss(config: config).compute(GRPOLossBatch(
                logProbs: logProbs, counts: counts, advantages: advantages.map(Float.init), generationBatchTokens: total))
            result.loss.backward()
            XCTAssertEqual(Double(result.loss.item()), expected, accuracy: 1e-6, lossType)
            XCTAssertEqual(result.metrics["clip_ratio/region_mean"], 0, lossType)
            let gradient = try XCTUnwrap(logProbs.grad).toArray()
            XCTAssertGreaterThan(gradient.map(abs).max() ?? 0, 0.01, "\(lossType): the gradient is not zero")
        }
    }
}
