import XCTest
@testable import FledgeRL

/// DPO's losses, gradients and metrics against TRL 1.16's `DPOTrainer._compute_loss`.
final class DPOLossTests: XCTestCase {
    func testEveryLossTypeMatchesTRL() throws {
        let (file, cases) = try ReferenceFixture.load("dpo")
        let counts = try file.integers("counts")
        let policy = try file.floats("policy"), reference = try file.floats("reference")
        var worst = 0.0
        for fixture in cases {
            let types = try fixture.strings("loss_type").map { try XCTUnwrap(DPOLossType(rawValue: $0), $0) }
            let weights = fixture.has("loss_weights") ? try fixture.doubles("loss_weights") : types.map { _ in 1 }
            let settings = DPOLossSettings(
                beta: try fixture.double("beta"), losses: zip(types, weights).map { (type: $0, weight: $1) },
                labelSmoothing: try fixture.double("label_smoothing"),
                fDivergenceType: try XCTUnwrap(FDivergenceType(rawValue: try XCTUnwrap(fixture.object["f_divergence_type"] as? String))),
                fAlphaDivergenceCoef: try fixture.double("f_alpha_divergence_coef"),
                ldAlpha: fixture.has("ld_alpha") ? try fixture.double("ld_alpha") : nil,
                useWeighting: try fixture.bool("use_weighting"), discopopTau: try fixture.double("discopop_tau"))

            let referenceSums = DPOSequenceLogProbs.referenceSums(reference, counts: counts, ldAlpha: settings.ldAlpha)
            worst = max(worst, assertClose(referenceSums.chosen.map(Double.init) + referenceSums.rejected.map(Double.init),
                                           try fixture.doubles("reference_chosen") + fixture.doubles("reference_rejected"),
                                           "\(fixture.name) reference sums"))

            let logProbs = Tensor(shape: [policy.count], values: policy)
            logProbs.requiresGrad = true
            let batch = DPOBatch(logProbs: logProbs, counts: counts, referenceChosen: referenceSums.chosen,
                                 referenceRejected: referenceSums.rejected, meanLogits: try file.floats("mean_logits"),
                                 logSumSquaredProbs: try file.floats("log_sum_sq_probs"))
            let result = DPOLoss(settings: settings).compute(batch)
            result.loss.backward()
            worst = max(worst, assertClose([Double(result.loss.item())], [try fixture.double("loss")], "\(fixture.name) loss"))
            worst = max(worst, assertClose(try XCTUnwrap(logProbs.grad).toArray().map(Double.init), try fixture.doubles("policy_grad"),
                                           "\(fixture.name) gradient"))
            assertMetrics(result.metrics, try fixture.metrics(), fixture.name)
        }
        print(String(format: "DPO: %d cases, worst relative error %.2e", cases.count, worst))
    }

    func testSettingsFromConfigPairLossesWithWeights() throws {
        var config = DPOConfig()
        config.lossType = [.sigmoid, .sft]
        config.lossWeights = [1, 0.25]
        config.ldAlpha = 0.5
        let settings = DPOLossSettings(config: config)
        XCTAssertEqual(settings.losses.map(\.type), [.sigmoid, .sft])
        XCTAssertEqual(settings.losses.map(\.weight), [1, 0.25])
        XCTAssertEqual(settings.ldAlpha, 0.5)
        config.lossWeights = nil
        XCTAssertEqual(DPOLossSettings(config: config).losses.map(\.weight), [1, 1])
    }

    func testEveryConfigLossTypeIsCoveredByTheFixture() throws {
        let covered = Set(try ReferenceFixture.load("dpo").cases.flatMap { try $0.strings("loss_type") })
        XCTAssertEqual(covered, Set(DPOLossType.allCases.map(\.rawValue)))
    }
}
