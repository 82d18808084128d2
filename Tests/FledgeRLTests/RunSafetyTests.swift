import Foundation
import XCTest
import FledgeNN
import FledgeTensor
@testable import FledgeRL

/// What protects a run's results: a fresh run never mixes with or destroys an earlier one, no
/// checkpoint holds NaN, a resumed state is checked, an unusable output_dir is named, and SIGTERM
/// saves a checkpoint as Ctrl-C does.
final class RunSafetyTests: TemporaryDirectoryTestCase {
    private func trainer(maxSteps: Int, output: URL, learningRate: Double = 0.01,
                         configure: (inout TrainingArguments) -> Void = { _ in }) throws -> Trainer<QuadraticAlgorithm> {
        var arguments = TrainingArguments()
        arguments.maxSteps = maxSteps
        arguments.saveSteps = 1
        arguments.loggingSteps = 1
        arguments.learningRate = learningRate
        arguments.outputDir = output.path
        configure(&arguments)
        let model = QuadraticModel()
        return try Trainer(algorithm: QuadraticAlgorithm(model: model), model: model, arguments: arguments,
                           optimizer: arguments.optim == .sgd
                               ? SGD(parameters: model.trainableParameters)
                               : AdamW(parameters: model.trainableParameters))
    }

    private func contents(_ url: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for case let file as URL in FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil)! {
            if let data = FileManager.default.contents(atPath: file.path) { files[file.path] = data }
        }
        return files
    }

    /// Item 1: a fresh run into an output_dir with checkpoints refuses, naming the directory and the
    /// three ways on, and changes no byte; `overwrite_output_dir` replaces the earlier run whole, so a
    /// later `resume_from_checkpoint: true` resumes the new run, not a stale checkpoint of the old one.
    func testAFreshRunNeverMixesWithAnEarlierRun() throws {
        let output = directory.appendingPathComponent("run")
        XCTAssertEqual(try trainer(maxSteps: 5, output: output).train().status, .completed)
        let before = try contents(output)

        XCTAssertThrowsError(try trainer(maxSteps: 2, output: output).train()) { error in
            guard case let TrainingError.outputDirectoryInUse(path, found) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, output.path)
            XCTAssertEqual(found, ["checkpoint-1", "checkpoint-2", "checkpoint-3", "checkpoint-4", "checkpoint-5",
                                   "metrics.jsonl", "trainer_state.json"])
            for way in ["resume_from_checkpoint", "output_dir", "overwrite_output_dir"] {
                XCTAssert("\(error)".contains(way), "\(error)")
            }
        }
        XCTAssertEqual(try contents(output), before, "a refused run must leave the earlier one as it was")

        let replacing = try trainer(maxSteps: 2, output: output) { $0.overwriteOutputDir = true }
        XCTAssertEqual(try replacing.train().state.globalStep, 2)
        XCTAssertEqual(CheckpointStore(directory: output).checkpoints().map(\.step), [1, 2])
        XCTAssertEqual(try MetricsFile.records(at: output.appendingPathComponent(MetricsFile.name)).map(\.step), [1, 2])

        let resumed = try trainer(maxSteps: 3, output: output) { $0.resumeFromCheckpoint = "true" }
        XCTAssertEqual(try resumed.train().state.globalStep, 3)
        XCTAssertEqual(try MetricsFile.records(at: output.appendingPathComponent(MetricsFile.name)).map(\.step), [1, 2, 3])
    }

    /// Item 2: a learning rate of 1e300 (finite, so inside its range, but infinite once the optimizer
    /// works in float32; `.inf` itself is refused by the range) turns the weights into NaN after the
    /// first update; no checkpoint and no final weights are written from them, and the error names the tensor.
    func testNoCheckpointIsWrittenWithNonFiniteWeights() throws {
        let output = directory.appendingPathComponent("run")
        XCTAssertThrowsError(try trainer(maxSteps: 3, output: output, learningRate: 1e300) { $0.optim = .sgd }.train()) { error in
            guard case let TrainingError.nonFiniteState(tensor, value, step, lastCheckpoint) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(tensor, "weight")
            XCTAssertFalse(value.isFinite)
            XCTAssertEqual(step, 1)
            XCTAssertNil(lastCheckpoint)
        }
        XCTAssertEqual(CheckpointStore(directory: output).checkpoints().count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("weights.safetensors").path))
    }

    /// Item 2: optimizer state holding NaN (a damaged or diverged checkpoint) is refused on resume,
    /// naming the file and the entry, before it reaches the weights.
    func testResumingNonFiniteOptimizerStateIsRefused() throws {
        let output = directory.appendingPathComponent("run")
        _ = try trainer(maxSteps: 2, output: output).train()
        let file = output.appendingPathComponent("checkpoint-2/optimizer.safetensors")
        let saved = try SafeTensorsFile(url: file)
        var entries: [(name: String, entry: SafeTensorsWriter.Entry)] = []
        for name in saved.names.sorted() {
            if saved.info(name)?.dtype == .float32 {
                var values = try saved.tensor(name).toArray()
                if name.hasPrefix("exp_avg_sq/") { values[3] = .nan }
                entries.append((name, .float(Tensor(shape: saved.info(name)!.shape, values: values), .float32)))
            } else {
                entries.append((name, .integers(try saved.integers(name), shape: saved.info(name)!.shape, saved.info(name)!.dtype)))
            }
        }
        try SafeTensorsWriter.write(entries, to: file)
        XCTAssertThrowsError(try trainer(maxSteps: 4, output: output) { $0.resumeFromCheckpoint = "true" }.train()) { error in
            XCTAssert("\(error)".contains(file.path), "\(error)")
            XCTAssert("\(error)".contains("exp_avg_sq/weight"), "\(error)")
            XCTAssert("\(error)".contains("nan"), "\(error)")
        }
    }

    /// Item 10: a resumed `trainer_state.json` with a negative step, or a step past this run's
    /// max_steps, is an error naming the file; so is resuming with another optimizer.
    func testResumedStateIsValidated() throws {
        let output = directory.appendingPathComponent("run")
        _ = try trainer(maxSteps: 5, output: output).train()
        let stateFile = output.appendingPathComponent("checkpoint-5/trainer_state.json")
        let original = try String(contentsOf: stateFile, encoding: .utf8)

        try original.replacingOccurrences(of: "\"global_step\": 5", with: "\"global_step\": -1")
            .write(to: stateFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try trainer(maxSteps: 5, output: output) { $0.resumeFromCheckpoint = "true" }.train()) { error in
            XCTAssert("\(error)".contains(stateFile.path) && "\(error)".contains("'global_step' is -1"), "\(error)")
        }

        try original.replacingOccurrences(of: "\"global_step\": 5", with: "\"global_step\": 100")
            .write(to: stateFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try trainer(maxSteps: 5, output: output) { $0.resumeFromCheckpoint = "true" }.train()) { error in
            XCTAssert("\(error)".contains("step 100, past this run's max_steps 5"), "\(error)")
        }

        try original.write(to: stateFile, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try trainer(maxSteps: 8, output: output) {
            $0.resumeFromCheckpoint = "true"
            $0.optim = .sgd
        }.train()) { error in
            XCTAssert("\(error)".contains("trained with optim adamw_torch_fused, this run has sgd"), "\(error)")
        }
        XCTAssertEqual(try trainer(maxSteps: 8, output: output) { $0.resumeFromCheckpoint = "true" }.train().state.globalStep, 8)
    }

    /// Item 15: an output_dir that is a file, lies under a file, or cannot be created is named with
    /// the path at fault and the system's reason, not a Foundation error.
    func testAnUnusableOutputDirectoryIsNamed() throws {
        let file = directory.appendingPathComponent("notes.txt")
        try Data("x".utf8).write(to: file)
        for (output, expected) in [(file, "\(file.path) is a file, not a directory"),
                                   (file.appendingPathComponent("run"), "\(file.path) is a file, not a directory"),
                                   (URL(fileURLWithPath: "/proc/fledge-run"), "making /proc/fledge-run failed")] {
            XCTAssertThrowsError(try trainer(maxSteps: 1, output: output).train()) { error in
                XCTAssert("\(error)".hasPrefix("output_dir \(output.path)"), "\(error)")
                XCTAssert("\(error)".contains(expected), "\(error)")
                XCTAssertFalse("\(error)".contains("NSCocoaErrorDomain"), "\(error)")
            }
        }
    }

    /// Item 14: SIGTERM (what Slurm and Kubernetes send before killing a job) stops `fledge grpo`
    /// after the current step with a checkpoint, and the exit status is 143.
    func testSIGTERMSavesACheckpointAndExits143() throws {
        let prompts = ArithmeticTask().problems(count: 8, seed: 3).map { #"{"prompt": "\#($0.prompt)", "answer": "\#($0.answer)"}"# }
        let dataset = try writeLines(prompts, to: "prompts.jsonl")
        let output = directory.appendingPathComponent("run")
        let config = try writeLines([
            "trainer: grpo", "model_name_or_path: \(GRPOTrainingTests.modelDirectory.path)", "dataset_name: \(dataset.path)",
            "output_dir: \(output.path)", "use_peft: true", "reward_funcs: [answer]", "per_device_train_batch_size: 4",
            "num_generations: 4", "max_completion_length: 5", "logging_steps: 1", "save_steps: 100000", "max_steps: 100000",
        ], to: "grpo.yaml")
        var signalled = false
        let result = try runFledge(["grpo", "--config", config.path], expectSuccess: false) { process in
            let logged = (try? String(contentsOf: output.appendingPathComponent(MetricsFile.name), encoding: .utf8)) ?? ""
            if !signalled && !logged.isEmpty {
                kill(process.processIdentifier, SIGTERM)
                signalled = true
            }
        }
        XCTAssertEqual(result.status, 143, result.output)
        XCTAssert(result.output.contains("terminated (SIGTERM): saving a checkpoint"), result.output)
        let checkpoint = try XCTUnwrap(CheckpointStore(directory: output).checkpoints().first)
        XCTAssertLessThan(checkpoint.step, 100000)
    }
}
