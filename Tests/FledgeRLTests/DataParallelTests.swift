import Foundation
import XCTest
import FledgeTensor
@testable import FledgeRL

/// `mpirun -np 2 fledge …` (Open MPI) on the demo's tiny model: two processes train exactly as one
/// process with the same global batch (twice the gradient accumulation), a two-process run resumes
/// from its checkpoint, SIGUSR1 stops it with a checkpoint, and a process that dies or hangs ends
/// the whole run; reward modelling, KTO and distillation split their batches as TRL does (KTO
/// averaging its KL estimate over the processes); RLOO, which does not split its rounds, refuses to
/// run in several processes.
/// Skipped where `mpirun` is not installed; the built `fledge` executable is run from the build directory.
final class DataParallelTests: TemporaryDirectoryTestCase {
    /// GRPO on the demo model: `steps` optimizer steps of 8 completions (2 prompts × 4), the KL term
    /// on (so the loss is not 0), LoRA dropout off (each process draws its own dropout masks).
    private func grpoConfig(lossType: String) throws -> URL {
        try groupSamplingConfig(trainer: "grpo", settings: ["loss_type: \(lossType)"], name: "grpo-\(lossType).yaml")
    }

    /// A config of `trainer` (grpo or rloo) with the settings `grpoConfig` describes, and `settings`.
    private func groupSamplingConfig(trainer: String, settings: [String], name: String) throws -> URL {
        let prompts = ArithmeticTask().problems(count: 8, seed: 3).map { problem in
            #"{"prompt": "\#(problem.prompt)", "answer": "\#(problem.answer)"}"#
        }
        let dataset = try writeLines(prompts, to: "prompts.jsonl")
        return try writeLines([
            "trainer: \(trainer)", "model_name_or_path: \(GRPOTrainingTests.modelDirectory.path)", "dataset_name: \(dataset.path)",
            "use_peft: true", "lora_target_modules: all-linear", "lora_dropout: 0", "reward_funcs: [answer]",
            "per_device_train_batch_size: 4", "num_generations: 4", "max_completion_length: 5", "learning_rate: 0.003",
            "beta: 0.04", "logging_steps: 1", "save_strategy: \"no\"", "max_steps: 4", "gradient_checkpointing: false",
        ] + settings, to: name)
    }

    func testTwoProcessesTrainGRPOAsOneWithTheSameGlobalBatch() throws {
        let mpirun = try Self.mpirun()
        for lossType in ["dapo", "bnpo"] {
            let config = try grpoConfig(lossType: lossType)
            let one = directory.appendingPathComponent("one-\(lossType)"), two = directory.appendingPathComponent("two-\(lossType)")
            try runFledge(["grpo", "--config", config.path, "--set", "gradient_accumulation_steps=2", "--set", "output_dir=\(one.path)"])
            // Tiny all-reduce buckets (256 floats): the LoRA gradients go in hundreds of buckets.
            try runFledge(["grpo", "--config", config.path, "--set", "gradient_accumulation_steps=1", "--set", "output_dir=\(two.path)"],
                    mpirun: mpirun, environment: ["FLEDGE_BUCKET_MB": "0.0009765625"])
            // The same rows form the same micro-batches, and scaling by 2 is exact: equal to the bit in practice.
            try assertSameTraining(one, two, lossTolerance: 1e-7, weightTolerance: 1e-6, label: lossType)
        }
    }

    func testTwoProcessesResumeFromTheirCheckpoint() throws {
        let mpirun = try Self.mpirun()
        let config = try grpoConfig(lossType: "dapo")
        let straight = directory.appendingPathComponent("straight"), resumed = directory.appendingPathComponent("resumed")
        let settings = ["--set", "gradient_accumulation_steps=1", "--set", "lora_dropout=0.1", "--set", "save_strategy=steps",
                        "--set", "save_steps=2"]
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(straight.path)"] + settings, mpirun: mpirun)
        for name in ["rng_state.json", "rng_state_1.json", "adapter_model.safetensors"] {
            XCTAssert(FileManager.default.fileExists(atPath: straight.path + "/checkpoint-2/" + name), "checkpoint-2 lacks \(name)")
        }
        try FileManager.default.createDirectory(at: resumed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: straight.appendingPathComponent("checkpoint-2"),
                                         to: resumed.appendingPathComponent("checkpoint-2"))
        try FileManager.default.copyItem(at: straight.appendingPathComponent("metrics.jsonl"),
                                         to: resumed.appendingPathComponent("metrics.jsonl"))
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(resumed.path)", "--set", "resume_from_checkpoint=true"]
                + settings, mpirun: mpirun)
        // With dropout on, each process's own dropout generators must continue where they were.
        try assertSameTraining(straight, resumed, lossTolerance: 0, weightTolerance: 0, label: "resumed")

        let single = try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(resumed.path)",
                              "--set", "resume_from_checkpoint=\(resumed.path)/checkpoint-2"] + settings, expectSuccess: false)
        XCTAssert(single.output.contains("trained by 2 processes, this run has 1"), single.output)
    }

    func testTwoProcessesTrainSFTAsOneWithTheSameGlobalBatch() throws {
        let mpirun = try Self.mpirun()
        // 10 rows in micro-batches of 2: 5 per epoch, so process 1 has no micro-batch at the end of each epoch.
        let rows = ArithmeticTask().problems(count: 10, seed: 5).map { #"{"prompt": "\#($0.prompt)", "completion": "\#($0.answer)"}"# }
        let dataset = try writeLines(rows, to: "sft.jsonl")
        let config = try writeLines([
            "trainer: sft", "model_name_or_path: \(GRPOTrainingTests.modelDirectory.path)", "dataset_name: \(dataset.path)",
            "use_peft: true", "lora_target_modules: all-linear", "lora_dropout: 0", "per_device_train_batch_size: 2",
            "learning_rate: 0.003", "logging_steps: 1", "save_strategy: \"no\"", "num_train_epochs: 2", "max_length: 16",
            "gradient_checkpointing: false",
        ], to: "sft.yaml")
        let one = directory.appendingPathComponent("one"), two = directory.appendingPathComponent("two")
        try runFledge(["sft", "--config", config.path, "--set", "gradient_accumulation_steps=4", "--set", "output_dir=\(one.path)"])
        try runFledge(["sft", "--config", config.path, "--set", "gradient_accumulation_steps=2", "--set", "output_dir=\(two.path)"],
                mpirun: mpirun)
        // Gradients are summed in another order (process 0's micro-batches 0 and 2, then process 1's);
        // Adam's normalised updates turn those rounding differences into ~1e-5 on a few weights.
        try assertSameTraining(one, two, lossTolerance: 1e-5, weightTolerance: 1e-4, label: "sft")
    }

    func testTwoProcessesTrainARewardModelAsOneWithTheSameGlobalBatch() throws {
        let mpirun = try Self.mpirun()
        // 10 pairs in micro-batches of 2: 5 per epoch, so process 1 has no micro-batch at the end of each epoch.
        let pairs = (0..<10).map { #"{"prompt": "Q\#($0):", "chosen": " yes \#($0 * 3)", "rejected": " no\#(String(repeating: "!", count: $0 % 3))"}"# }
        let config = try writeLines([
            "trainer: reward", "model_name_or_path: \(RewardReferenceTests.modelDirectory.path)",
            "dataset_name: \(try writeLines(pairs, to: "pairs.jsonl").path)", "use_peft: true", "lora_target_modules: all-linear",
            "lora_dropout: 0", "per_device_train_batch_size: 2", "learning_rate: 0.01", "logging_steps: 1",
            "save_strategy: \"no\"", "num_train_epochs: 2", "gradient_checkpointing: false",
        ], to: "reward.yaml")
        let one = directory.appendingPathComponent("one"), two = directory.appendingPathComponent("two")
        try runFledge(["reward", "--config", config.path, "--set", "gradient_accumulation_steps=4", "--set", "output_dir=\(one.path)"])
        try runFledge(["reward", "--config", config.path, "--set", "gradient_accumulation_steps=2", "--set", "output_dir=\(two.path)"],
                      mpirun: mpirun)
        try assertSameTraining(one, two, lossTolerance: 1e-5, weightTolerance: 1e-4, label: "reward")
    }

    /// KTO rows on the KTO fixture model: `count` rows, every fourth from row 1 undesirable (so that the
    /// mismatched completions gain probability and the KL estimate turns positive), whose odd rows share
    /// one completion, so that rotating the completions within batches of 2 or of 4 pairs each prompt
    /// with the same other completion.
    private func ktoConfig(lossType: String, count: Int) throws -> URL {
        let completions = [" Canberra.", " 5, or so", " cba", " 5, or so"]
        let rows = (0..<count).map { row in
            #"{"prompt": "Row \#(row) says", "completion": "\#(row % 2 == 1 ? completions[1] : completions[row % 4])\#(row % 2 == 1 ? "" : " \(row)")", "label": \#(row % 4 != 1)}"#
        }
        return try writeLines([
            "trainer: kto", "model_name_or_path: \(KTOReferenceTests.modelDirectory.path)",
            "dataset_name: \(try writeLines(rows, to: "kto-\(lossType).jsonl").path)", "use_peft: true",
            "lora_target_modules: all-linear", "lora_dropout: 0", "loss_type: \(lossType)", "learning_rate: 0.05",
            "logging_steps: 1", "save_strategy: \"no\"", "num_train_epochs: 2", "gradient_checkpointing: false", "max_length: 32",
        ], to: "kto-\(lossType).yaml")
    }

    func testTwoProcessesTrainKTOWithoutAKLTermAsOneWithTheSameGlobalBatch() throws {
        let mpirun = try Self.mpirun()
        let config = try ktoConfig(lossType: "apo_zero_unpaired", count: 10)
        let one = directory.appendingPathComponent("one"), two = directory.appendingPathComponent("two")
        try runFledge(["kto", "--config", config.path, "--set", "per_device_train_batch_size=2", "--set", "gradient_accumulation_steps=4",
                       "--set", "output_dir=\(one.path)"])
        try runFledge(["kto", "--config", config.path, "--set", "per_device_train_batch_size=2", "--set", "gradient_accumulation_steps=2",
                       "--set", "output_dir=\(two.path)"], mpirun: mpirun)
        try assertSameTraining(one, two, lossTolerance: 1e-5, weightTolerance: 1e-4, label: "kto apo_zero_unpaired")
    }

    /// The `kto` loss averages its KL estimate over the processes, as TRL gathers it: two processes with
    /// micro-batches of 2 rows train as one process with micro-batches of 4 (whose rotated completions
    /// are the same here), and not as one with micro-batches of 2 and twice the accumulation, whose
    /// micro-batches estimate the KL term each on their own.
    func testTwoProcessesAverageKTOsKLEstimateAsTRLGathersIt() throws {
        let mpirun = try Self.mpirun()
        let config = try ktoConfig(lossType: "kto", count: 10)
        let together = directory.appendingPathComponent("together"), accumulated = directory.appendingPathComponent("accumulated")
        let two = directory.appendingPathComponent("two")
        try runFledge(["kto", "--config", config.path, "--set", "per_device_train_batch_size=4", "--set", "output_dir=\(together.path)"])
        try runFledge(["kto", "--config", config.path, "--set", "per_device_train_batch_size=2", "--set", "gradient_accumulation_steps=2",
                       "--set", "output_dir=\(accumulated.path)"])
        try runFledge(["kto", "--config", config.path, "--set", "per_device_train_batch_size=2", "--set", "output_dir=\(two.path)"],
                      mpirun: mpirun)
        try assertSameTraining(together, two, lossTolerance: 1e-5, weightTolerance: 1e-4, label: "kto")
        let kl = try MetricsFile.records(at: two.appendingPathComponent(MetricsFile.name)).compactMap { $0["kl"] }
        XCTAssert(kl.contains { $0 > 0 }, "the KL estimate should be positive at some step for the comparison to test it: \(kl)")
        let losses = try [accumulated, two].map { try MetricsFile.records(at: $0.appendingPathComponent(MetricsFile.name)).compactMap { $0["loss"] } }
        XCTAssert(zip(losses[0], losses[1]).contains { abs($0 - $1) > 1e-4 }, "\(losses)")
    }

    func testTwoProcessesDistillAsOneWithTheSameGlobalBatch() throws {
        let mpirun = try Self.mpirun()
        let prompts = ["2 + 2 =", "Hello", "The capital of France is", "Count to three:", "Say hi", "Reverse abc", "1, 2, 3,",
                       "Once upon a time"].map { #"{"prompt": "\#($0)"}"# }
        let config = try writeLines([
            "trainer: distill", "model_name_or_path: \(SFTFixtures.modelDirectory.path)",
            "teacher_model_name_or_path: \(fixtureURL("distill/teacher").path)",
            "dataset_name: \(try writeLines(prompts, to: "prompts.jsonl").path)", "use_peft: true", "lora_target_modules: all-linear",
            "lora_r: 4", "lora_alpha: 8", "lora_dropout: 0", "per_device_train_batch_size: 2", "max_completion_length: 6",
            "learning_rate: 0.03", "logging_steps: 1", "save_strategy: \"no\"", "max_steps: 4", "beta: 0.5",
            "gradient_checkpointing: false",
        ], to: "distill.yaml")
        let one = directory.appendingPathComponent("one"), two = directory.appendingPathComponent("two")
        try runFledge(["distill", "--config", config.path, "--set", "gradient_accumulation_steps=4", "--set", "output_dir=\(one.path)"])
        try runFledge(["distill", "--config", config.path, "--set", "gradient_accumulation_steps=2", "--set", "output_dir=\(two.path)"],
                      mpirun: mpirun)
        // Each row samples with its own seed wherever it is generated, so both runs train on the same completions.
        try assertSameTraining(one, two, lossTolerance: 1e-5, weightTolerance: 1e-4, label: "distill")
        for name in ["completions/mean_length", "entropy"] {
            let values = try [one, two].map { try MetricsFile.records(at: $0.appendingPathComponent(MetricsFile.name)).compactMap { $0[name] } }
            XCTAssertEqual(values[0].count, 4, name)
            for (a, b) in zip(values[0], values[1]) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(a)), name) }
        }
    }

    func testSIGUSR1ToMpirunStopsEveryProcessWithACheckpoint() throws {
        let mpirun = try Self.mpirun()
        let config = try grpoConfig(lossType: "dapo")
        let output = directory.appendingPathComponent("stopped")
        var signalled = false
        let result = try runFledge(["grpo", "--config", config.path, "--set", "gradient_accumulation_steps=1", "--set", "max_steps=1000",
                              "--set", "output_dir=\(output.path)"], mpirun: mpirun, expectSuccess: false) { launcher in
            let logged = (try? String(contentsOf: output.appendingPathComponent(MetricsFile.name), encoding: .utf8)) ?? ""
            if !signalled && logged.split(separator: "\n").count >= 2 {
                kill(launcher.processIdentifier, SIGUSR1)
                signalled = true
            }
        }
        XCTAssertEqual(result.status, 130, result.output)
        XCTAssert(result.output.contains("stopped at step"), result.output)
        let checkpoints = CheckpointStore(directory: output).checkpoints()
        XCTAssertEqual(checkpoints.count, 1)
        let checkpoint = try XCTUnwrap(checkpoints.first)
        XCTAssertLessThan(checkpoint.step, 1000)
        XCTAssert(FileManager.default.fileExists(atPath: checkpoint.url.appendingPathComponent("rng_state_1.json").path))
    }

    func testADyingProcessEndsTheRun() throws {
        let mpirun = try Self.mpirun()
        let config = try grpoConfig(lossType: "dapo")
        // Process 1's reward command kills process 1 (its parent) as soon as it starts.
        let command = #"if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then kill -9 $PPID; fi; while read line; do echo '{"reward": 1}'; done"#
        let start = Date()
        let result = try runFledge(["grpo", "--config", config.path, "--set", "gradient_accumulation_steps=1", "--set", "reward_funcs=[]",
                              "--set", "reward_command=\(Self.yamlString(command))", "--set", "output_dir=\(directory.path)/died"],
                             mpirun: mpirun, expectSuccess: false)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60, "the run should end once a process dies, not hang")
    }

    func testAStuckProcessEndsTheRunAfterTheTimeout() throws {
        let mpirun = try Self.mpirun()
        let config = try grpoConfig(lossType: "dapo")
        let command = #"if [ "$OMPI_COMM_WORLD_RANK" = 1 ]; then sleep 20; fi; while read line; do echo '{"reward": 1}'; done"#
        let result = try runFledge(["grpo", "--config", config.path, "--set", "gradient_accumulation_steps=1", "--set", "reward_funcs=[]",
                              "--set", "reward_command=\(Self.yamlString(command))", "--set", "output_dir=\(directory.path)/stuck"],
                             mpirun: mpirun, environment: ["FLEDGE_MPI_TIMEOUT": "2"], expectSuccess: false)
        XCTAssertNotEqual(result.status, 0)
        XCTAssert(result.output.contains("error (process 0 of 2): waited 2 s for the other processes during the rewards of a "
            + "generation round"), result.output)
        XCTAssert(result.output.contains("FLEDGE_MPI_TIMEOUT"), result.output)
    }

    func testRLOORefusesSeveralProcesses() throws {
        let mpirun = try Self.mpirun()
        let config = try groupSamplingConfig(trainer: "rloo", settings: [], name: "rloo.yaml")
        let result = try runFledge(["rloo", "--config", config.path, "--set", "output_dir=\(directory.path)/rloo"],
                             mpirun: mpirun, expectSuccess: false)
        XCTAssertNotEqual(result.status, 0)
        XCTAssert(result.output.contains("this process is one of 2 an MPI launcher started, but RLOO does not split its data "
            + "over processes; run it in one process (without mpirun)"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("rloo/metrics.jsonl").path))
    }

    /// Compares two runs' logged losses and gradient norms step by step (|Δ| ≤ `lossTolerance` ·
    /// max(1, |value|)) and their final adapters tensor by tensor (|Δ| ≤ `weightTolerance`), and
    /// prints the largest differences.
    private func assertSameTraining(_ first: URL, _ second: URL, lossTolerance: Double, weightTolerance: Float,
                                    label: String) throws {
        let records = try [first, second].map { try MetricsFile.records(at: $0.appendingPathComponent(MetricsFile.name)) }
        XCTAssertEqual(records[0].count, records[1].count, label)
        XCTAssertGreaterThanOrEqual(records[0].count, 4, label)
        var lossDifference = 0.0, lossSum = 0.0
        for (a, b) in zip(records[0], records[1]) {
            XCTAssertEqual(a.step, b.step, label)
            for name in ["loss", "grad_norm"] {
                let x = try XCTUnwrap(a[name], label), y = try XCTUnwrap(b[name], label)
                lossDifference = max(lossDifference, abs(x - y) / max(1, abs(x)))
                if name == "loss" { lossSum += abs(x) }
            }
        }
        XCTAssertGreaterThan(lossSum, 0, "\(label): the losses should not all be 0")
        let adapters = try [first, second].map { try SafeTensorsFile(url: $0.appendingPathComponent("adapter_model.safetensors")) }
        XCTAssertEqual(adapters[0].names.sorted(), adapters[1].names.sorted(), label)
        var weightDifference: Float = 0
        for name in adapters[0].names {
            let a = try adapters[0].tensor(name).toArray(), b = try adapters[1].tensor(name).toArray()
            weightDifference = zip(a, b).reduce(weightDifference) { max($0, abs($1.0 - $1.1)) }
        }
        print("\(label): max scaled |Δ| of loss and grad_norm over \(records[0].count) steps \(lossDifference), "
            + "max |Δ| of adapter weights \(weightDifference)")
        XCTAssertLessThanOrEqual(lossDifference, lossTolerance, label)
        XCTAssertLessThanOrEqual(weightDifference, weightTolerance, label)
    }

    /// `text` as a YAML double-quoted string.
    private static func yamlString(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// `mpirun` on the PATH; skips the test when there is none.
    private static func mpirun() throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(folder)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
    }
}
