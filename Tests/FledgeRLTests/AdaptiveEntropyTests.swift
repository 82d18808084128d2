import Foundation
import XCTest
@testable import FledgeRL

/// Adaptive entropy control (`use_adaptive_entropy`) against TRL 1.16's `GRPOTrainer` (fixtures from
/// `make_grpo_fixtures.py`'s adaptive_entropy.json): three optimizer steps of two micro-batches of the
/// loss fixtures' batch — every micro-batch's loss and gradient, and after each step the coefficient,
/// the entropy the controller measured and the logged `entropy_coef`; then a GRPO run that resumes
/// the controller exactly.
final class AdaptiveEntropyTests: TemporaryDirectoryTestCase {
    private struct Fixture: Decodable {
        struct Call: Decodable {
            let loss: Double
            let logpsGrad: [Float]
            enum CodingKeys: String, CodingKey { case loss, logpsGrad = "logps_grad" }
        }
        struct Step: Decodable {
            let entropyCoef: Double
            let lastWorldEntropy: Double
            let loggedEntropyCoef: Double
            enum CodingKeys: String, CodingKey {
                case entropyCoef = "entropy_coef", lastWorldEntropy = "last_world_entropy"
                case loggedEntropyCoef = "logged_entropy_coef"
            }
        }
        struct Case: Decodable {
            let name: String
            let settings: [String: JSONScalar]
            let calls: [Call]
            let steps: [Step]
        }
        let microBatches: [[Int]]
        let cases: [Case]
        enum CodingKeys: String, CodingKey { case cases, microBatches = "micro_batches" }
    }

    func testControllerAndLossesMatchTRL() throws {
        let inputs = try GRPOFixtures.decode(GRPOFixtures.LossInputs.self, "loss_inputs.json")
        let fixture = try GRPOFixtures.decode(Fixture.self, "adaptive_entropy.json")
        var worstLoss = 0.0, worstGradient = 0.0
        for lossCase in fixture.cases {
            let config = try resolve(GRPOConfig.self, inputs.yaml(lossCase.settings), preset: .trl).config
            let loss = GRPOLoss(config: config), control = EntropyBonusControl(config: config)
            var calls = lossCase.calls.makeIterator()
            for (stepIndex, step) in lossCase.steps.enumerated() {
                for (index, rows) in fixture.microBatches.enumerated() {
                    let call = try XCTUnwrap(calls.next())
                    let values = rows.flatMap { inputs.trlLogps[$0] }, entropies = rows.flatMap { inputs.trlEntropies[$0] }
                    let logProbs = Tensor(shape: [values.count], values: values)
                    logProbs.requiresGrad = true
                    let result = loss.compute(GRPOLossBatch(
                        logProbs: logProbs, counts: rows.map { inputs.trlLogps[$0].count }, advantages: rows.map { inputs.advantages[$0] },
                        oldLogProbs: rows.flatMap { inputs.oldLogps[$0] },
                        entropies: Tensor(shape: [entropies.count], values: entropies), generationBatchTokens: inputs.numItemsInBatch),
                        entropyCoefficient: control.appliedCoefficient)
                    result.loss.backward()
                    let name = "\(lossCase.name) step \(stepIndex + 1) micro-batch \(index + 1)"
                    let lossError = Swift.abs(Double(result.loss.item()) - call.loss) / Swift.max(Swift.abs(call.loss), 1e-3)
                    let gradientError = scaledError(try XCTUnwrap(logProbs.grad).toArray(), call.logpsGrad)
                    XCTAssertLessThanOrEqual(lossError, 1e-5, "\(name): loss \(result.loss.item()) vs TRL \(call.loss)")
                    XCTAssertLessThanOrEqual(gradientError, 1e-5, name)
                    worstLoss = Swift.max(worstLoss, lossError)
                    worstGradient = Swift.max(worstGradient, gradientError)
                    control.record(result.entropyWindow)
                }
                try control.finishStep(over: SingleProcess(), step: "step \(stepIndex + 1)")
                XCTAssertEqual(control.coefficient, step.entropyCoef, accuracy: 1e-12, "\(lossCase.name) step \(stepIndex + 1)")
                XCTAssertEqual(control.coefficient, step.loggedEntropyCoef, accuracy: 1e-12)
                XCTAssertEqual(control.lastStepEntropy, step.lastWorldEntropy, accuracy: 1e-5, "\(lossCase.name) step \(stepIndex + 1)")
            }
        }
        print(String(format: "  adaptive entropy: loss rel %.1e, d/dlogp scaled %.1e", worstLoss, worstGradient))
    }

    /// A micro-batch whose every completion is out of the loss (all truncated under
    /// `mask_truncated_completions`) scores no token and has no entropies: the bonus adds nothing and
    /// the controller counts no token, where it once stopped the run.
    func testAMicroBatchWithNoLossTokens() throws {
        let config = try resolve(GRPOConfig.self, "use_adaptive_entropy: true\nentropy_coef: 0.1\nbeta: 0").config
        let result = GRPOLoss(config: config).compute(
            GRPOLossBatch(logProbs: Tensor.zeros([0]), counts: [0, 0], advantages: [1, -1], generationBatchTokens: 0),
            entropyCoefficient: 0.1)
        XCTAssertEqual(result.loss.item(), 0)
        XCTAssertEqual(result.entropyWindow?.tokens, 0)
    }

    /// On the demo model: `entropy_coef` is logged once a step and moves by `entropy_coef_delta`; a run
    /// stopped after step 2 and resumed logs the same coefficients and ends with the same weights.
    func testGRPORunLogsAndResumesTheController() throws {
        let modelDirectory = GRPOTrainingTests.modelDirectory
        let tokenizer = try Tokenizer(directory: modelDirectory.path)
        func run(_ name: String, stopAt: Int? = nil, resume: Bool = false) throws -> (records: [MetricsRecord], weights: [[Float]]) {
            let yaml = [
                "model_name_or_path: \(modelDirectory.path)", "output_dir: \(directory.path)/\(name)", "reward_funcs: [answer]",
                "use_peft: true", "lora_target_modules: all-linear", "per_device_train_batch_size: 8", "num_generations: 4",
                "gradient_accumulation_steps: 2", "max_completion_length: 5", "max_steps: 4", "logging_steps: 1",
                "save_steps: 2", "gradient_checkpointing: false", "learning_rate: 0.003", "beta: 0",
                "use_adaptive_entropy: true", "entropy_coef: 0.02", "entropy_coef_delta: 0.01", "entropy_target: 5",
            ] + (resume ? ["resume_from_checkpoint: true"] : [])
            let config = try resolve(GRPOConfig.self, yaml.joined(separator: "\n")).config
            let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
            let rows = ArithmeticTask().problems(count: 16, seed: 11).map { problem in
                PromptDataset.Row(prompt: .string(problem.prompt), promptIds: tokenizer.encode(problem.prompt, addSpecialTokens: true),
                                  columns: JSONObject([("answer", .string(problem.answer))]))
            }
            let grpo = try GRPO(model: model, tokenizer: tokenizer, dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(problems)")),
                                rewards: try BuiltInRewards.make(config: config), config: config)
            let trainer = try Trainer(algorithm: grpo, model: model, arguments: config.training)
            let outcome = try trainer.trainRecording(stoppingAt: stopAt).outcome
            return (outcome.state.logHistory, model.trainableParameters.map { $0.tensor.toArray() })
        }
        let straight = try run("straight")
        let coefficients = straight.records.compactMap { $0["entropy_coef"] }
        // The demo model's entropy stays below 5 nats: +0.01 after every step.
        XCTAssertEqual(coefficients.count, 4)
        for (index, value) in coefficients.enumerated() { XCTAssertEqual(value, 0.02 + 0.01 * Double(index + 1), accuracy: 1e-12) }
        _ = try run("resumed", stopAt: 2)
        let resumed = try run("resumed", resume: true)
        XCTAssertEqual(resumed.records.compactMap { $0["entropy_coef"] }, coefficients)
        XCTAssertEqual(resumed.weights, straight.weights, "resuming restores the coefficient and the last step's entropy")
    }
}
