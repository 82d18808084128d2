import Foundation
import XCTest
@testable import FledgeLM
@testable import FledgeRL

/// Reward modelling against TRL's `RewardTrainer` on a tiny Llama-shaped sequence classifier (fixtures from
/// `Scripts/reference/make_reward_trainer_fixtures.py`): tokenization of each data format, and one batch's
/// rewards, loss, metrics and gradients, full and LoRA (PEFT `SEQ_CLS` adapter with a trained head).
final class RewardReferenceTests: TemporaryDirectoryTestCase {
    static var fixtures: URL { fixtureURL("reward") }
    static var modelDirectory: URL { fixtures.appendingPathComponent("model") }

    static func expected() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
    }

    static func tokenizer() throws -> Tokenizer { try Tokenizer(directory: modelDirectory.path) }

    static func dataset(_ name: String, maxLength: Int? = 1024) throws -> RewardDataset {
        try RewardDataset(file: fixtures.appendingPathComponent(name + ".jsonl"),
                          encoder: RewardEncoder(tokenizer: try tokenizer(), maxLength: maxLength))
    }

    /// The fixture classifier as reward training loads it: its config has no pad id, and TRL's rule
    /// (the tokenizer has no pad token) makes it the EOS id.
    static func model() throws -> SequenceClassifier {
        let padId = try SequenceClassifier.padTokenId(tokenizer: tokenizer())
        XCTAssertEqual(padId, try expected()["pad_token_id"] as? Int)
        return try SequenceClassifier.rewardModel(directory: modelDirectory, padTokenId: padId, seed: 0)
    }

    /// Explicit and implicit prompts, text (EOS appended unless there) and chat messages, and the
    /// `max_length` filter give TRL's `chosen_ids` and `rejected_ids`.
    func testTokenizationMatchesTRL() throws {
        let expected = try Self.expected()
        for name in ["text_explicit", "text_implicit", "chat_explicit", "chat_implicit", "max_length"] {
            let reference = try XCTUnwrap(expected[name] as? [String: Any])
            let fields = try XCTUnwrap(reference["config"] as? [String: Any])
            let dataset = try Self.dataset(name, maxLength: fields["max_length"] as? Int)
            let rows = try XCTUnwrap(reference["rows"] as? [[String: [Int]]])
            XCTAssertEqual(dataset.pairs.count, rows.count, name)
            XCTAssertEqual(dataset.droppedCount, name == "max_length" ? 1 : 0, name)
            XCTAssertEqual(dataset.isConversational, name.hasPrefix("chat"), name)
            for (pair, row) in zip(dataset.pairs, rows) {
                XCTAssertEqual(pair.chosen, row["chosen_ids"], "\(name) chosen")
                XCTAssertEqual(pair.rejected, row["rejected_ids"], "\(name) rejected")
            }
        }
    }

    /// Full fine-tuning, text rows with margins and `center_rewards_coefficient`.
    func testFullFineTuningStepMatchesTRL() throws {
        let model = try Self.model()
        model.makeFullyTrainable()
        try checkStep("full", model: model)
    }

    /// LoRA with the head in `modules_to_save`, read from PEFT's adapter files, on chat rows.
    func testLoRAStepMatchesTRL() throws {
        let model = try Self.model()
        try model.loadAdapter(from: Self.fixtures.appendingPathComponent("lora_adapter"))
        model.makeHeadTrainable()
        try checkStep("lora", model: model)
    }

    /// One batch of three pairs: the rewards, the loss and TRL's metrics within 1e-5 relative, and the
    /// gradients after `backward()` within 1e-4.
    private func checkStep(_ name: String, model: SequenceClassifier) throws {
        let expected = try XCTUnwrap(Self.expected()[name] as? [String: Any])
        let fields = try XCTUnwrap(expected["config"] as? [String: Any])
        var config = RewardConfig()
        config.centerRewardsCoefficient = fields["center_rewards_coefficient"] as? Double
        config.training.perDeviceTrainBatchSize = 3
        let pairs = try Self.dataset(name + "_step").pairs
        let paddedIds = try XCTUnwrap(expected["input_ids"] as? [[Int]])
        let padId = try XCTUnwrap(model.config.padTokenId)
        for (sequence, padded) in zip(pairs.map(\.chosen) + pairs.map(\.rejected), paddedIds) {
            XCTAssertEqual(sequence, Array(padded.prefix(sequence.count)), "\(name) token ids")
            XCTAssert(padded.dropFirst(sequence.count).allSatisfy { $0 == padId }, "\(name) right padding")
        }
        let rewards = Tensor.withoutGrad { model.lastNonPadScores(pairs.map(\.chosen) + pairs.map(\.rejected)) }
        assertClose(rewards, try XCTUnwrap(expected["rewards"] as? [Double]), "\(name) rewards")

        let training = try RewardModeling(model: model, train: pairs, config: config)
        let result = try training.loss(of: RewardModeling.MicroBatch(indices: [0, 1, 2]))
        assertClose([Double(result.loss.item())], [try XCTUnwrap(expected["loss"] as? Double)], "\(name) loss")
        var metrics = try XCTUnwrap(expected["metrics"] as? [String: Double])
        XCTAssertEqual(Double(result.tokens), metrics.removeValue(forKey: "num_tokens"), "\(name): TRL's num_tokens")
        XCTAssertEqual(Set(result.metrics.keys), Set(metrics.keys), "\(name): TRL's metric names")
        assertMetrics(result.metrics, metrics, "\(name) metrics")

        result.loss.backward()
        let gradients = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("\(name)_gradients.safetensors"))
        XCTAssertEqual(gradients.names.sorted(), (expected["gradients"] as? [String])?.sorted())
        for parameterName in gradients.names {
            let grad = try XCTUnwrap(model.trainableParameters.first { $0.name == parameterName }?.tensor.grad, parameterName)
            assertClose(grad, try gradients.tensor(parameterName).toArray().map(Double.init), tolerance: 1e-4,
                        "\(name) gradient \(parameterName)")
        }
    }

    /// Fledge writes a reward model's adapter as PEFT does (the head in `modules_to_save`, under
    /// `base_model.model.score.weight`); it loads back, and merged into a model directory it scores the
    /// same, with the pad id it was trained with.
    func testAdapterWithHeadRoundTripsAndMerges() throws {
        let model = try Self.model()
        try model.loadAdapter(from: Self.fixtures.appendingPathComponent("lora_adapter"))
        model.makeHeadTrainable()
        let adapter = directory.appendingPathComponent("adapter")
        try model.saveTrainedWeights(to: adapter)
        let reference = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("lora_adapter/adapter_model.safetensors"))
        let written = try SafeTensorsFile(url: adapter.appendingPathComponent("adapter_model.safetensors"))
        XCTAssertEqual(written.names.sorted(), reference.names.sorted())
        let config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: adapter.appendingPathComponent("adapter_config.json")))
            as? [String: Any])
        XCTAssertEqual(config["modules_to_save"] as? [String], ["classifier", "score", "pre_classifier"])
        XCTAssertEqual(config["task_type"] as? String, "SEQ_CLS")
        XCTAssertTrue(try PretrainedModel.adapterTrainsClassifierHead(adapter))

        let sequences = try Self.dataset("lora_step").pairs.flatMap { [$0.chosen, $0.rejected] }
        let expected = Tensor.withoutGrad { model.lastNonPadScores(sequences).toArray().map(Double.init) }
        let reloaded = try Self.model()
        try reloaded.loadAdapter(from: adapter)
        assertClose(Tensor.withoutGrad { reloaded.lastNonPadScores(sequences) }, expected, "reloaded adapter rewards")

        let merged = directory.appendingPathComponent("merged")
        try reloaded.saveModel(to: merged)
        let loaded = try XCTUnwrap(PretrainedModel.load(directory: merged) as? SequenceClassifier)
        XCTAssertEqual(loaded.config.padTokenId, try Self.expected()["pad_token_id"] as? Int)
        assertClose(Tensor.withoutGrad { loaded.lastNonPadScores(sequences) }, expected, tolerance: 1e-4, "merged model rewards")
        // A causal LM cannot take a reward model's adapter.
        XCTAssertThrowsError(try SFTFixtures.model().loadAdapter(from: adapter)) { error in
            XCTAssert("\(error)".contains("modules_to_save"), "\(error)")
        }
    }
}
