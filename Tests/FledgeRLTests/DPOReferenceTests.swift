import Foundation
import XCTest
@testable import FledgeRL

/// DPO end to end against TRL's `DPOTrainer` on the tiny SFT fixture model (fixtures from
/// `Scripts/reference/make_dpo_trainer_fixtures.py`): tokenization, and one batch's loss,
/// reference log-probs, metrics and gradients.
final class DPOReferenceTests: TemporaryDirectoryTestCase {
    static var fixtures: URL { fixtureURL("dpo") }

    static func expected() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
    }

    static func pairs(_ name: String, maxLength: Int? = 1024, truncationMode: TruncationMode = .keepStart) throws -> PreferenceDataset {
        let encoder = PreferenceEncoder(tokenizer: try SFTFixtures.tokenizer(), maxLength: maxLength, truncationMode: truncationMode)
        return try PreferenceDataset(file: fixtures.appendingPathComponent(name + ".jsonl"), encoder: encoder)
    }

    /// Prompt/completion splitting, EOS, chat templates, truncation (keep_start drops a row whose prompt
    /// fills max_length) give TRL's training sequences and completion masks.
    func testTokenizationMatchesTRL() throws {
        let expected = try Self.expected()
        for name in ["strings", "messages", "keep_start", "keep_end"] {
            let reference = try XCTUnwrap(expected[name] as? [String: Any])
            let fields = try XCTUnwrap(reference["config"] as? [String: Any])
            let mode = TruncationMode(rawValue: fields["truncation_mode"] as? String ?? "keep_start")!
            let dataset = try Self.pairs(name, maxLength: fields["max_length"] as? Int, truncationMode: mode)
            let rows = try XCTUnwrap(reference["rows"] as? [[String: [String: [Int]]]])
            XCTAssertEqual(dataset.pairs.count, rows.count, name)
            XCTAssertEqual(dataset.droppedCount, name == "keep_start" ? 1 : 0, name)
            for (pair, row) in zip(dataset.pairs, rows) {
                for (side, sequence) in [("chosen", pair.chosen), ("rejected", pair.rejected)] {
                    XCTAssertEqual(sequence.ids, row[side]?["input_ids"], "\(name) \(side)")
                    let mask = (0..<sequence.ids.count).map { $0 >= sequence.completionStart ? 1 : 0 }
                    XCTAssertEqual(mask, row[side]?["completion_mask"], "\(name) \(side) completion mask")
                }
            }
        }
    }

    func testFullFineTuningStepMatchesTRL() throws {
        let model = try SFTFixtures.fullyTrainableModel()
        try checkStep("full", model: model, reference: .frozen(try SFTFixtures.model()))
    }

    func testLoRAStepMatchesTRL() throws {
        let model = try SFTFixtures.model()
        try model.loadAdapter(from: Self.fixtures.appendingPathComponent("lora_adapter"))
        try checkStep("lora", model: model, reference: .adaptersDisabled(model))
    }

    func testWeightedStepMatchesTRL() throws {
        let model = try SFTFixtures.model()
        try model.loadAdapter(from: Self.fixtures.appendingPathComponent("lora_adapter"))
        try checkStep("weighted", model: model, reference: .adaptersDisabled(model))
    }

    /// One batch of three pairs: the loss, the precomputed reference log-probs, TRL's metrics and the
    /// gradients after `backward()` match TRL's within 1e-5 relative (2e-5 for gradients).
    private func checkStep(_ name: String, model: LanguageModel, reference: ReferencePolicy) throws {
        let expected = try XCTUnwrap(Self.expected()[name] as? [String: Any])
        let config = try Self.config(try XCTUnwrap(expected["config"] as? [String: Any]), outputDir: directory)
        let pairs = try Self.pairs("step").pairs
        let precomputed = try PrecomputedReference(pairs: pairs, split: "train", directory: directory, reference: reference,
                                                   model: model, ldAlpha: config.ldAlpha, batchSize: 2)
        assertClose(precomputed.chosen.map(Double.init), try XCTUnwrap(expected["ref_chosen_logps"] as? [Double]),
                    "\(name) reference chosen log-probs")
        assertClose(precomputed.rejected.map(Double.init), try XCTUnwrap(expected["ref_rejected_logps"] as? [Double]),
                    "\(name) reference rejected log-probs")

        let dpo = try DPO(model: model, train: pairs, config: config, reference: reference)
        let result = try dpo.loss(of: DPO.MicroBatch(indices: [0, 1, 2]))
        assertClose([Double(result.loss.item())], [try XCTUnwrap(expected["loss"] as? Double)], "\(name) loss")
        var metrics = try XCTUnwrap(expected["metrics"] as? [String: Double])
        metrics["mean_token_accuracy"] = nil  // not logged by Fledge
        metrics["num_tokens"] = nil  // the trainer counts tokens
        assertMetrics(result.metrics, metrics, "\(name) metrics")
        XCTAssertEqual(result.tokens, 102, "input tokens of the batch, TRL's num_tokens")

        result.loss.backward()
        let gradients = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("\(name)_gradients.safetensors"))
        XCTAssertEqual(gradients.names.sorted(), (expected["gradients"] as? [String])?.sorted())
        for parameterName in gradients.names {
            let grad = try XCTUnwrap(model.trainableParameters.first { $0.name == parameterName }?.tensor.grad, parameterName)
            assertClose(grad, try gradients.tensor(parameterName).toArray().map(Double.init), tolerance: 2e-5,
                        "\(name) gradient \(parameterName)")
        }
    }

    /// A DPOConfig with the fixture's fields, batches of three pairs and `outputDir`.
    static func config(_ fields: [String: Any], outputDir: URL) throws -> DPOConfig {
        var config = DPOConfig()
        config.lossType = try (fields["loss_type"] as? [String] ?? ["sigmoid"]).map { try XCTUnwrap(DPOLossType(rawValue: $0)) }
        config.lossWeights = fields["loss_weights"] as? [Double]
        config.beta = fields["beta"] as? Double ?? 0.1
        config.ldAlpha = fields["ld_alpha"] as? Double
        config.useWeighting = fields["use_weighting"] as? Bool ?? false
        config.training.perDeviceTrainBatchSize = 3
        config.training.outputDir = outputDir.path
        return config
    }
}
