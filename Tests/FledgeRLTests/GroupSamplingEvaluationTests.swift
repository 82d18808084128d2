import Foundation
import XCTest
@testable import FledgeRL

/// Evaluation during GRPO and RLOO training: `eval_strategy: steps` logs TRL's `eval_*` metrics at
/// the evaluation steps, computed over the `test` split as `fledge eval` computes them; a resumed run
/// evaluates exactly as an uninterrupted one; `fledge plot` draws the evaluation metrics.
final class GroupSamplingEvaluationTests: TemporaryDirectoryTestCase {
    /// A dataset folder with `train.jsonl` and `test.jsonl` (disjoint addition problems) and a config of `trainer`.
    private func config(trainer: String, settings: [String] = []) throws -> URL {
        let split = ArithmeticTask().split(seed: 9, train: 8, heldOut: 6)
        let folder = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, problems) in [("train", split.train), ("test", split.heldOut)] {
            let lines = problems.map { #"{"prompt": "\#($0.prompt)", "answer": "\#($0.answer)"}"# }
            try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("\(name).jsonl"), atomically: true,
                                                              encoding: .utf8)
        }
        return try writeLines([
            "trainer: \(trainer)", "model_name_or_path: \(GRPOTrainingTests.modelDirectory.path)", "dataset_name: \(folder.path)",
            "use_peft: true", "lora_target_modules: all-linear", "lora_dropout: 0", "reward_funcs: [answer]",
            "per_device_train_batch_size: 8", "num_generations: 4", "max_completion_length: 5", "learning_rate: 0.01",
            "beta: 0", "logging_steps: 1", "max_steps: 4", "gradient_checkpointing: false",
            "eval_strategy: steps", "eval_steps: 2", "per_device_eval_batch_size: 6", "num_generations_eval: 3",
            "save_strategy: steps", "save_steps: 2",
        ] + settings, to: "\(trainer).yaml")
    }

    private func evaluations(_ run: URL) throws -> [MetricsRecord] {
        try MetricsFile.records(at: run.appendingPathComponent("metrics.jsonl")).filter { record in
            record.values.contains { $0.name.hasPrefix("eval_") }
        }
    }

    private func value(_ record: MetricsRecord, _ name: String) -> Double? {
        record.values.first { $0.name == name }?.value
    }

    func testGRPOEvaluatesAtTheEvaluationStepsAndResumesInStep() throws {
        let config = try config(trainer: "grpo")
        let straight = directory.appendingPathComponent("straight"), resumed = directory.appendingPathComponent("resumed")
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(straight.path)"])
        let records = try evaluations(straight)
        XCTAssertEqual(records.map(\.step), [2, 4])
        for record in records {
            for name in ["eval_reward", "eval_reward_std", "eval_rewards/answer/mean", "eval_rewards/answer/std",
                         "eval_frac_reward_zero_std", "eval_completions/mean_length", "eval_completions/clipped_ratio",
                         "eval_completions/max_terminated_length", "eval_accuracy"] {
                XCTAssert(value(record, name)?.isFinite ?? false, "step \(record.step): \(name) is \(String(describing: value(record, name)))")
            }
            // The answer reward is 1 exactly when the completion is correct, and scores every completion.
            XCTAssertEqual(value(record, "eval_accuracy")!, value(record, "eval_reward")!, accuracy: 1e-12)
            // 6 prompts × 3 completions: the reward is a multiple of 1/18.
            let eighteenths = value(record, "eval_reward")! * 18
            XCTAssertEqual(eighteenths, eighteenths.rounded(), accuracy: 1e-9)
        }

        try FileManager.default.createDirectory(at: resumed, withIntermediateDirectories: true)
        for name in ["checkpoint-2", "metrics.jsonl"] {
            try FileManager.default.copyItem(at: straight.appendingPathComponent(name), to: resumed.appendingPathComponent(name))
        }
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(resumed.path)", "--set", "resume_from_checkpoint=true"])
        let again = try evaluations(resumed)
        XCTAssertEqual(again.map(\.step), [2, 4])
        for (first, second) in zip(records, again) {
            XCTAssertEqual(first.values.map(\.name), second.values.map(\.name))
            for ((name, a), (_, b)) in zip(first.values, second.values) {
                XCTAssertEqual(a, b, accuracy: 1e-9, "step \(first.step): \(name)")
            }
        }

        let plot = try runFledge(["plot", straight.path])
        let svg = try String(contentsOf: straight.appendingPathComponent("metrics.svg"), encoding: .utf8)
        XCTAssert(svg.contains("eval_reward"), "fledge plot drew no eval_reward panel: \(plot.output)")
    }

    func testRLOOEvaluates() throws {
        let config = try config(trainer: "rloo")
        let run = directory.appendingPathComponent("rloo")
        try runFledge(["rloo", "--config", config.path, "--set", "output_dir=\(run.path)", "--set", "max_steps=2",
                       "--set", "save_strategy=no"])
        let records = try evaluations(run)
        XCTAssertEqual(records.map(\.step), [2])
        XCTAssert(value(records[0], "eval_reward")?.isFinite ?? false, "\(records[0].values)")
    }

    /// Without a test split, evaluation is an error naming the split and the fields to change.
    func testMissingTestSplitIsAnError() throws {
        let config = try config(trainer: "grpo")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("data/test.jsonl"))
        let result = try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(directory.path)/none"], expectSuccess: false)
        XCTAssertNotEqual(result.status, 0)
        XCTAssert(result.output.contains("dataset_name has no split 'test'"), result.output)
    }
}
