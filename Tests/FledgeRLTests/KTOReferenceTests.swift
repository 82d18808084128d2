import Foundation
import XCTest
import FledgeLM
import FledgeTensor
@testable import FledgeRL

/// KTO against TRL 1.16's `KTOTrainer` on a tiny random Llama (fixtures from
/// `Scripts/reference/make_kto_trainer_fixtures.py`): tokenization with the mismatched (KL)
/// sequences, and one batch's loss, reference log-probs, metrics and gradients for each loss type.
final class KTOReferenceTests: TemporaryDirectoryTestCase {
    static var fixtures: URL { fixtureURL("kto") }
    static var modelDirectory: URL { fixtures.appendingPathComponent("model") }

    static func expected() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json"))) as? [String: Any])
    }

    static func rows(_ name: String, maxLength: Int?, mismatchedBatchSize: Int?) throws -> UnpairedPreferenceDataset {
        let encoder = UnpairedPreferenceEncoder(tokenizer: try Tokenizer(directory: modelDirectory.path), maxLength: maxLength)
        return try UnpairedPreferenceDataset(file: fixtures.appendingPathComponent(name + ".jsonl"), encoder: encoder,
                                             mismatchedBatchSize: mismatchedBatchSize)
    }

    /// Prompt/completion splitting, EOS, chat templates, paired rows unpaired (each chunk's chosen
    /// completions, then its rejected ones), max_length (dropping a row whose prompt fills it) and the
    /// KL completions rotated within batches of three give TRL's sequences, masks and labels.
    func testTokenizationMatchesTRL() throws {
        let expected = try Self.expected()
        for name in ["strings", "messages", "paired", "paired_messages", "truncated"] {
            let reference = try XCTUnwrap(expected[name] as? [String: Any])
            let fields = try XCTUnwrap(reference["config"] as? [String: Any])
            let dataset = try Self.rows(name, maxLength: fields["max_length"] as? Int, mismatchedBatchSize: 3)
            let rows = try XCTUnwrap(reference["rows"] as? [[String: Any]])
            XCTAssertEqual(dataset.rows.count, rows.count, name)
            XCTAssertEqual(dataset.droppedCount, name == "truncated" ? 1 : 0, name)
            XCTAssertEqual(dataset.isConversational, name.hasSuffix("messages"))
            for (index, (row, trl)) in zip(dataset.rows, rows).enumerated() {
                XCTAssertEqual(row.label, trl["label"] as? Bool, "\(name) row \(index) label")
                let mismatched = try XCTUnwrap(row.mismatched)
                for (prefix, sequence) in [("", row.sequence), ("KL_", mismatched)] {
                    XCTAssertEqual(sequence.ids, trl[prefix + "input_ids"] as? [Int], "\(name) row \(index) \(prefix)input_ids")
                    let mask = (0..<sequence.ids.count).map { $0 >= sequence.completionStart ? 1 : 0 }
                    XCTAssertEqual(mask, trl[prefix + "completion_mask"] as? [Int], "\(name) row \(index) \(prefix)completion_mask")
                }
            }
        }
        let withoutKL = try Self.rows("strings", maxLength: 64, mismatchedBatchSize: nil)
        XCTAssert(withoutKL.rows.allSatisfy { $0.mismatched == nil }, "apo_zero_unpaired builds no mismatched sequences")
    }

    func testKTOFullFineTuningStepMatchesTRL() throws {
        let model = try LanguageModel(directory: Self.modelDirectory)
        model.makeFullyTrainable()
        // The script's policy: the final norm scaled by 0.6, so that it differs from the reference.
        let norm = try XCTUnwrap(model.trainableParameters.first { $0.name == "model.norm.weight" })
        norm.tensor.withUnsafeMutableElements { for index in $0.indices { $0[index] *= 0.6 } }
        try checkStep("kto_full", model: model, reference: .frozen(try LanguageModel(directory: Self.modelDirectory)))
    }

    func testKTOLoRAStepMatchesTRL() throws {
        let model = try LanguageModel(directory: Self.modelDirectory)
        try model.loadAdapter(from: Self.fixtures.appendingPathComponent("lora_adapter"))
        try checkStep("kto_lora", model: model, reference: .adaptersDisabled(model))
    }

    func testAPOZeroUnpairedStepMatchesTRL() throws {
        let model = try LanguageModel(directory: Self.modelDirectory)
        try model.loadAdapter(from: Self.fixtures.appendingPathComponent("lora_adapter"))
        try checkStep("apo_lora", model: model, reference: .adaptersDisabled(model))
    }

    /// One batch of four rows: the loss, the precomputed reference log-probs (of the completions and of
    /// the mismatched completions), TRL's metrics within 1e-5 relative, and the gradients after
    /// `backward()` within 1e-4.
    private func checkStep(_ name: String, model: LanguageModel, reference: ReferencePolicy) throws {
        let expected = try XCTUnwrap(Self.expected()[name] as? [String: Any])
        let config = try Self.config(try XCTUnwrap(expected["config"] as? [String: Any]), outputDir: directory)
        let rows = try Self.rows("step", maxLength: config.maxLength,
                                 mismatchedBatchSize: config.lossType.estimatesKL ? 4 : nil).rows
        let precomputed = try KTOPrecomputedReference(rows: rows, split: "train", directory: directory, reference: reference,
                                                      model: model, batchSize: 3)
        assertClose(precomputed.completions.map(Double.init), try XCTUnwrap(expected["ref_logps"] as? [Double]),
                    "\(name) reference log-probs")
        if config.lossType.estimatesKL {
            assertClose(try XCTUnwrap(precomputed.mismatched).map(Double.init), try XCTUnwrap(expected["ref_KL_logps"] as? [Double]),
                        "\(name) reference log-probs of the mismatched completions")
        } else {
            XCTAssertNil(precomputed.mismatched)
        }

        let kto = try KTO(model: model, train: rows, config: config, reference: reference)
        let result = try kto.loss(of: KTO.MicroBatch(indices: [0, 1, 2, 3]))
        assertClose([Double(result.loss.item())], [try XCTUnwrap(expected["loss"] as? Double)], "\(name) loss")
        var metrics = try XCTUnwrap(expected["metrics"] as? [String: Double])
        metrics["num_tokens"] = nil  // the trainer counts tokens
        XCTAssertEqual(Set(result.metrics.keys), Set(metrics.keys), "\(name): TRL's metric names")
        assertMetrics(result.metrics, metrics, "\(name) metrics")
        XCTAssertEqual(Double(result.tokens), try XCTUnwrap(expected["metrics"] as? [String: Double])["num_tokens"],
                       "input tokens of the batch, TRL's num_tokens")

        result.loss.backward()
        let gradients = try SafeTensorsFile(url: Self.fixtures.appendingPathComponent("\(name)_gradients.safetensors"))
        XCTAssertEqual(gradients.names.sorted(), (expected["gradients"] as? [String])?.sorted())
        for parameterName in gradients.names {
            let grad = try XCTUnwrap(model.trainableParameters.first { $0.name == parameterName }?.tensor.grad, parameterName)
            assertClose(grad, try gradients.tensor(parameterName).toArray().map(Double.init), tolerance: 1e-4,
                        "\(name) gradient \(parameterName)")
        }
    }

    /// A KTOConfig with the fixture's fields, batches of four rows and `outputDir`.
    static func config(_ fields: [String: Any], outputDir: URL) throws -> KTOConfig {
        var config = KTOConfig()
        config.lossType = try XCTUnwrap(KTOLossType(rawValue: fields["loss_type"] as? String ?? "kto"))
        config.beta = fields["beta"] as? Double ?? 0.1
        config.desirableWeight = fields["desirable_weight"] as? Double ?? 1
        config.undesirableWeight = fields["undesirable_weight"] as? Double ?? 1
        config.training.perDeviceTrainBatchSize = 4
        config.training.outputDir = outputDir.path
        return config
    }
}
