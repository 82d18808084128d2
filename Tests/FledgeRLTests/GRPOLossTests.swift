import Foundation
import XCTest
@testable import FledgeRL

/// GRPO's loss against TRL's `GRPOTrainer._compute_loss` (fixtures from make_grpo_fixtures.py): every
/// loss type with beta 0 and 0.04, token and sequence importance sampling, delta, top_entropy_quantile,
/// off_policy_mask_threshold (off- and on-policy), entropy_coef (alone and with top_entropy_quantile),
/// the KL without bias correction and on-policy batches.
final class GRPOLossTests: XCTestCase {
    private var inputs: GRPOFixtures.LossInputs!
    private var cases: [GRPOFixtures.LossCase]!
    private var gradients: SafeTensorsFile!

    override func setUpWithError() throws {
        inputs = try GRPOFixtures.decode(GRPOFixtures.LossInputs.self, "loss_inputs.json")
        cases = try GRPOFixtures.decode([GRPOFixtures.LossCase].self, "loss_cases.json")
        gradients = try SafeTensorsFile(url: GRPOFixtures.url("loss_gradients.safetensors"))
    }

    private func loss(for lossCase: GRPOFixtures.LossCase) throws -> GRPOLoss {
        let resolved = try resolve(GRPOConfig.self, inputs.yaml(lossCase.settings), preset: .trl)
        XCTAssertEqual(resolved.report.errors, [], lossCase.name)
        return GRPOLoss(config: resolved.config)
    }

    private func batch(_ logProbs: Tensor, _ lossCase: GRPOFixtures.LossCase, entropies: Tensor) -> GRPOLossBatch {
        GRPOLossBatch(
            logProbs: logProbs, counts: inputs.counts, advantages: inputs.advantages,
            oldLogProbs: lossCase.offPolicy ? inputs.oldLogps.flatMap { $0 } : nil,
            referenceLogProbs: lossCase.settings["beta"]?.number == 0 ? nil : inputs.refLogps.flatMap { $0 },
            entropies: entropies, generationBatchTokens: inputs.numItemsInBatch)
    }

    /// TRL's entropies of the fixture's scored positions (constants).
    private var trlEntropies: Tensor {
        let values = inputs.trlEntropies.flatMap { $0 }
        return Tensor(shape: [values.count], values: values)
    }

    /// From TRL's own per-token log-probs: the loss, its gradient with respect to them, and the metrics.
    func testLossGradientAndMetricsMatchTRL() throws {
        var worstLoss = 0.0, worstGradient = 0.0, worstMetric = 0.0
        for lossCase in cases {
            let logProbs = Tensor(shape: [inputs.counts.reduce(0, +)], values: inputs.trlLogps.flatMap { $0 })
            logProbs.requiresGrad = true
            let result = try loss(for: lossCase).compute(batch(logProbs, lossCase, entropies: trlEntropies))
            result.loss.backward()

            let lossError = relativeError(Double(result.loss.item()), lossCase.loss)
            XCTAssertLessThanOrEqual(lossError, 1e-5, "\(lossCase.name): loss \(result.loss.item()) vs TRL \(lossCase.loss)")
            let expected = try gradients.tensor("\(lossCase.name)/per_token_logps").toArray()
            let gradientError = scaledError(try XCTUnwrap(logProbs.grad).toArray(), expected)
            XCTAssertLessThanOrEqual(gradientError, 1e-5, "\(lossCase.name): d loss / d log-probs")
            XCTAssertEqual(Set(result.metrics.keys), Set(lossCase.metrics.keys), lossCase.name)
            for (name, value) in lossCase.metrics {
                let actual = try XCTUnwrap(result.metrics[name], "\(lossCase.name): \(name)")
                guard let value else {
                    XCTAssert(actual.isNaN, "\(lossCase.name): \(name) is \(actual), TRL logs NaN")
                    continue
                }
                let error = Swift.abs(actual - value) / Swift.max(Swift.abs(value), 1)
                worstMetric = Swift.max(worstMetric, error)
                XCTAssertLessThanOrEqual(error, 1e-5, "\(lossCase.name): \(name) \(actual) vs TRL \(value)")
            }
            worstLoss = Swift.max(worstLoss, lossError)
            worstGradient = Swift.max(worstGradient, gradientError)
        }
        print(String(format: "  %d cases: loss rel %.1e, d/dlogp scaled %.1e, metrics %.1e",
                     cases.count, worstLoss, worstGradient, worstMetric))
    }

    /// End to end from the tiny Llama: Fledge's log-probs and entropies, the loss and the parameter
    /// gradients.
    func testModelGradientsMatchTRL() throws {
        let model = try LanguageModel(directory: GRPOFixtures.url("model"))
        let weights = Dictionary(uniqueKeysWithValues: model.namedWeights)
        for (_, weight) in model.namedWeights { weight.requiresGrad = true }
        let sequences = zip(inputs.prompts, inputs.completions).enumerated().map { row, pair in
            inputs.maskedRows.contains(row) ? pair.0 : pair.0 + pair.1
        }
        let scoredFrom = inputs.prompts.map(\.count)

        let probe = Tensor.withoutGrad {
            model.sequenceLogProbs(sequences, scoredFrom: scoredFrom, temperature: Float(inputs.temperature), withEntropy: true)
        }
        let logProbError = scaledError(probe.logProbs.toArray(), inputs.trlLogps.flatMap { $0 })
        let entropyError = scaledError(try XCTUnwrap(probe.entropy).toArray(), inputs.trlEntropies.flatMap { $0 })
        XCTAssertLessThanOrEqual(logProbError, 1e-5, "log-probs")
        XCTAssertLessThanOrEqual(entropyError, 1e-5, "entropies")

        var worstLoss = 0.0, worstGradient = 0.0
        for lossCase in cases {
            for (_, weight) in model.namedWeights { weight.zeroGrad() }
            let scored = model.sequenceLogProbs(sequences, scoredFrom: scoredFrom, temperature: Float(inputs.temperature),
                                                withEntropy: true)
            let result = try loss(for: lossCase).compute(batch(scored.logProbs, lossCase, entropies: try XCTUnwrap(scored.entropy)))
            result.loss.backward()
            // The loss is a sum of advantage-weighted terms of order 0.1–1 whose advantages cancel within
            // each group, so it can be far smaller than its terms (0.0077 for grpo_beta0_token): float32
            // rounding of the terms bounds its absolute error, so the error is scaled by at least 0.01.
            // (On an Intel Xeon, whose libm picks other exp/log variants than AMD's EPYC, that case
            // differs from TRL by 8e-8, 1.05e-5 of its own size.)
            let lossError = Swift.abs(Double(result.loss.item()) - lossCase.loss) / Swift.max(Swift.abs(lossCase.loss), 0.01)
            // VESPO's weight is exp of a sum of log-ratios: the model's float32 log-prob differences
            // (~2e-6 each) move it by (k − λw)·Σδ, a few 1e-5 of the loss; from TRL's own log-probs
            // (the test above) it matches within 1e-5 like every other loss type.
            let tolerance = lossCase.settings["loss_type"]?.yaml == "vespo" ? 5e-5 : 1e-5
            XCTAssertLessThanOrEqual(lossError, tolerance, "\(lossCase.name): loss")
            worstLoss = Swift.max(worstLoss, lossError)
            for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.input_layernorm.weight"] {
                let expected = try gradients.tensor("\(lossCase.name)/\(name)").toArray()
                let actual = try XCTUnwrap(weights[name]?.grad, "\(lossCase.name): no gradient for \(name)").toArray()
                let error = scaledError(actual, expected)
                XCTAssertLessThanOrEqual(error, 1e-4, "\(lossCase.name): \(name)")
                worstGradient = Swift.max(worstGradient, error)
            }
        }
        print(String(format: "  log-probs %.1e, entropies %.1e; %d cases: loss rel %.1e, parameter gradients scaled %.1e",
                     logProbError, entropyError, cases.count, worstLoss, worstGradient))
    }

    /// Evaluation neither accumulates nor splits the generation batch: grpo's loss is GA times the
    /// training one, dapo's GA / steps_per_generation times. A batch whose every completion is masked
    /// out gives a zero loss.
    func testEvaluationScalingAndMaskedBatches() throws {
        let lossCase = try XCTUnwrap(cases.first { $0.name == "dapo_beta0_token" })
        let logProbs = Tensor(shape: [inputs.counts.reduce(0, +)], values: inputs.trlLogps.flatMap { $0 })
        let batch = batch(logProbs, lossCase, entropies: trlEntropies)
        for (lossType, factor) in [(GRPOLossType.grpo, 2.0), (.dapo, 0.5)] {
            var settings = try loss(for: lossCase).settings
            settings.lossType = lossType
            let training = GRPOLoss(settings: settings).compute(batch).loss.item()
            let evaluation = GRPOLoss(settings: settings.forEvaluation).compute(batch).loss.item()
            XCTAssertEqual(Double(evaluation), Double(training) * factor, accuracy: 1e-7, "\(lossType)")
        }
        for lossType in [GRPOLossType.grpo, .bnpo, .drGRPO, .dapo, .cispo, .sapo, .luspo, .vespo] {
            var settings = try loss(for: lossCase).settings
            settings.lossType = lossType
            let empty = Tensor.zeros([0])
            empty.requiresGrad = true
            let result = GRPOLoss(settings: settings).compute(GRPOLossBatch(
                logProbs: empty, counts: [0, 0], advantages: [1, -1], entropies: Tensor.zeros([0]), generationBatchTokens: 0))
            XCTAssertEqual(result.loss.item(), 0, "\(lossType)")
            result.loss.backward()
        }
    }
}
