import Foundation
import XCTest
@testable import FledgeRL

/// `examples/trl-fields/config.yaml` end to end for two optimizer steps, on the tool-episode fixtures'
/// tiny Qwen model given Qwen3's chat template (the demo model has no chat template for
/// `chat_template_kwargs` to act on): each field it sets takes effect — prompts rendered without
/// thinking, suppressed tokens never sampled, the off-policy second step, the adaptive entropy
/// coefficient logged once a step, the `cosine_with_min_lr` rates, and DoRA magnitudes in the adapter.
final class ExampleTRLFieldsTests: TemporaryDirectoryTestCase {
    /// A copy of the tiny Qwen model whose tokenizer carries Qwen3's chat template.
    private func qwen3Model() throws -> URL {
        let model = directory.appendingPathComponent("model")
        try FileManager.default.copyItem(at: fixtureURL("tool_episodes/model"), to: model)
        let configURL = model.appendingPathComponent("tokenizer_config.json")
        guard case .object(var fields) = try JSONParser.parse([UInt8](Data(contentsOf: configURL))) else {
            throw XCTSkip("the fixture's tokenizer_config.json is not an object")
        }
        let template = try String(contentsOf: RepositoryFiles.url("Tests/FledgeLMTests/Fixtures/chat/templates/qwen3.jinja"),
                                  encoding: .utf8)
        fields["chat_template"] = .string(template)
        try Data(JSONWriter().string(.object(fields)).utf8).write(to: configURL)
        return model
    }

    func testTheExampleConfigRunsWithEveryFieldInEffect() throws {
        let model = try qwen3Model()
        let tokenizer = try Tokenizer(directory: model.path)
        let endOfTurn = try XCTUnwrap(tokenizer.id(of: "<|im_end|>"))
        let overrides = [
            "model_name_or_path=\(model.path)", "output_dir=\(directory.path)/run", "max_steps=2", "num_generations=4",
            "per_device_train_batch_size=4", "gradient_accumulation_steps=1", "steps_per_generation=2",
            "max_completion_length=6", "save_steps=2", "log_completions=true",
            // Every completion is truncated (below), which overlong filtering would leave out of the loss.
            "mask_truncated_completions=false",
            // The example suppresses <think> by its Qwen3 id; this vocabulary is smaller, so suppress the end of turn.
            "generation_kwargs={suppress_tokens: [\(endOfTurn)]}",
        ]
        let resolved = try resolve(GRPOConfig.self, try String(contentsOf: RepositoryFiles.url("examples/trl-fields/config.yaml"),
                                                               encoding: .utf8), overrides: overrides)
        XCTAssert(resolved.report.isUsable, "\(resolved.report.errors)")
        let config = resolved.config
        XCTAssertTrue(config.run.useDora && config.useAdaptiveEntropy && config.offPolicyMaskThreshold == 0.5)
        let prepared = try GRPO.prepare(config)
        // Qwen3's template with enable_thinking false closes an empty think block after the generation prompt.
        for row in prepared.algorithm.dataset.rows {
            XCTAssert(tokenizer.decode(row.promptIds, skipSpecialTokens: false).hasSuffix("<|im_start|>assistant\n<think>\n\n</think>\n\n"))
        }
        let outcome = try prepared.trainer().train()
        XCTAssertEqual(outcome.status, .completed)
        let records = outcome.state.logHistory
        XCTAssertEqual(records.map(\.step), [1, 2])
        // The end of turn is never sampled, so every completion runs to max_completion_length.
        for record in records { XCTAssertEqual(record["completions/clipped_ratio"], 1) }
        // One entropy_coef per step, moved by entropy_coef_delta (0.005) from 0.001 either way.
        for (index, record) in records.enumerated() {
            let coefficient = try XCTUnwrap(record["entropy_coef"])
            XCTAssertEqual(Swift.abs(coefficient - 0.001), 0.005 * Double(index + 1), accuracy: 1e-12)
            XCTAssertNotNil(record["policy_loss"])
        }
        // Warm-up of ceil(0.05 × 2) = 1 step, then the cosine starts at the peak rate.
        XCTAssertEqual(records[0]["learning_rate"], 0)
        XCTAssertEqual(try XCTUnwrap(records[1]["learning_rate"]), 1e-5, accuracy: 1e-15)
        let adapter = try SafeTensorsFile(url: directory.appendingPathComponent("run/adapter_model.safetensors"))
        let magnitudes = adapter.names.filter { $0.hasSuffix(".lora_magnitude_vector") }
        XCTAssertEqual(magnitudes.count, adapter.names.filter { $0.hasSuffix(".lora_A.weight") }.count)
        XCTAssertFalse(magnitudes.isEmpty)
    }
}
