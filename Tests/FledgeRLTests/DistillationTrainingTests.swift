import Foundation
import XCTest
import FledgeLM
@testable import FledgeRL

/// Distillation end to end on the tiny fixtures: the SFT fixtures' Qwen2 as the student (LoRA), the
/// distillation fixtures' wider teacher, a JSON Lines file of prompts, through the library factory.
final class DistillationTrainingTests: TemporaryDirectoryTestCase {
    private func config(_ fields: [String: String] = [:], output: String = "run") throws -> DistillationConfig {
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        if !FileManager.default.fileExists(atPath: prompts.path) {
            let lines = ["2 + 2 =", "Hello", "The capital of France is", "Count to three:", "Say hi", "Reverse abc",
                         "1, 2, 3,", "Once upon a time"].map { #"{"prompt": "\#($0)"}"# }
            try (lines.joined(separator: "\n") + "\n").write(to: prompts, atomically: true, encoding: .utf8)
        }
        var settings = [
            "model_name_or_path": SFTFixtures.modelDirectory.path,
            "teacher_model_name_or_path": fixtureURL("distill/teacher").path,
            "dataset_name": prompts.path, "output_dir": directory.appendingPathComponent(output).path,
            "use_peft": "true", "lora_target_modules": "all-linear", "lora_r": "4", "lora_alpha": "8",
            "per_device_train_batch_size": "2", "gradient_accumulation_steps": "2", "max_completion_length": "6",
            "learning_rate": "0.01", "logging_steps": "1", "save_steps": "2", "gradient_checkpointing": "false",
            "max_steps": "4", "beta": "0.5",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(DistillationConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    /// Four steps: TRL's metrics are logged and finite, each step's completions come from four
    /// prompts, and the divergence falls.
    func testTrainsWithTRLMetricsAndTheDivergenceFalls() throws {
        let prepared = try Distillation.prepare(try config(["max_steps": "12", "save_strategy": "\"no\"", "learning_rate": "0.03"]))
        let records = try prepared.trainer().train().state.logHistory
        XCTAssertEqual(records.count, 12)
        for record in records {
            for name in ["loss", "grad_norm", "entropy", "completions/mean_length", "completions/min_length",
                         "completions/max_length", "completions/clipped_ratio", "completions/mean_terminated_length"] {
                XCTAssert(record[name]?.isFinite == true, "step \(record.step): \(name) = \(String(describing: record[name]))")
            }
            XCTAssert((1...6).contains(record["completions/max_length"]!), "\(record)")
        }
        let losses = records.compactMap { $0["loss"] }
        let early = losses.prefix(4).reduce(0, +) / 4, late = losses.suffix(4).reduce(0, +) / 4
        print("distillation training: mean loss of the first 4 steps \(early), of the last 4 \(late)")
        XCTAssertLessThan(late, early)
    }

    /// A step's batch is a pure function of the seed and the step: asked twice, the micro-batches are
    /// the same, and each step's prompts are distinct rows of the epoch.
    func testBatchesArePureFunctionsOfTheStep() throws {
        let first = try Distillation.prepare(try config()).algorithm
        let second = try Distillation.prepare(try config()).algorithm
        for step in 0..<2 {
            let position = StepPosition(step: step, epoch: 0, microBatches: step * 2..<step * 2 + 2)
            let a = try first.microBatches(for: position), b = try second.microBatches(for: position)
            XCTAssertEqual(a.flatMap { $0.rows.map(\.completionIds) }, b.flatMap { $0.rows.map(\.completionIds) })
            XCTAssertEqual(Set(a.flatMap { $0.rows.map(\.promptIds) }).count, 4)
        }
    }

    /// A run resumed from its step-2 checkpoint ends with the weights of a run that went straight through.
    func testResumeContinuesExactly() throws {
        let straight = try Distillation.prepare(try config(output: "straight"))
        _ = try straight.trainer().train()
        let first = try Distillation.prepare(try config(output: "resumed"))
        let trainer = try first.trainer()
        XCTAssertEqual(try trainer.trainRecording(stoppingAt: 2).outcome.status, .stopped)
        let second = try Distillation.prepare(try config(["resume_from_checkpoint": "true"], output: "resumed"))
        _ = try second.trainer().train()
        XCTAssertEqual(maxDifference(second.model.trainableParameters, straight.model.trainableParameters), 0)
    }

    /// Distillation: the student's sampling and loss pass are noised (`L` of the loss the generation batch's
    /// longest prompt plus longest completion), the teacher never.
    func testDistillationNoisesTheStudentNotTheTeacher() throws {
        let prepared = try Distillation.prepare(try config(["neftune_noise_alpha": "5"], output: "distill"))
        let student = prepared.algorithm.model, teacher = prepared.algorithm.teacher
        let log = NEFTunePassLog(), teacherLog = NEFTunePassLog()
        student.neftunePassLog = log
        teacher.neftunePassLog = teacherLog
        let batches = try prepared.algorithm.microBatches(for: StepPosition(step: 0, epoch: 0, microBatches: 0..<2))
        let round = batches[0].round
        let prompt = round.rows.map(\.promptIds.count).max()!, completion = round.rows.map(\.completionIds.count).max()!
        let width = student.config.hiddenSize
        XCTAssertEqual(log.passes.count, completion, "the prefill and a decoding step per further token")
        XCTAssertEqual(log.passes.first?.rows, 4)
        XCTAssertEqual(log.passes.first?.magnitude, 5 / Float(prompt * width).squareRoot())
        XCTAssert(log.passes.dropFirst().allSatisfy { $0.length == 1 && !$0.withGradients })
        let before = log.passes.count
        _ = try prepared.algorithm.loss(of: batches[0])
        let loss = Array(log.passes[before...])
        XCTAssertEqual(loss.map(\.rows), [2])
        XCTAssertEqual(loss.map(\.withGradients), [true])
        XCTAssertEqual(loss[0].magnitude, 5 / Float((prompt + completion) * width).squareRoot())
        XCTAssert(teacherLog.passes.isEmpty)
    }

    /// Distillation with NEFTune stopped after step 2 and resumed ends with the uninterrupted run's weights.
    func testDistillationResumesExactlyWithNEFTune() throws {
        let straight = try Distillation.prepare(try config(["neftune_noise_alpha": "5"], output: "straight"))
        _ = try straight.trainer().train()
        let clean = try Distillation.prepare(try config([:], output: "clean"))
        _ = try clean.trainer().train()
        XCTAssertGreaterThan(maxDifference(clean.model.trainableParameters, straight.model.trainableParameters), 0)
        let first = try Distillation.prepare(try config(["neftune_noise_alpha": "5"], output: "resumed"))
        let trainer = try first.trainer()
        XCTAssertEqual(try trainer.trainRecording(stoppingAt: 2).outcome.status, .stopped)
        let second = try Distillation.prepare(try config(["neftune_noise_alpha": "5", "resume_from_checkpoint": "true"],
                                                                     output: "resumed"))
        _ = try second.trainer().train()
        XCTAssertEqual(maxDifference(second.model.trainableParameters, straight.model.trainableParameters), 0)
    }

    /// `log_completions`: each logging step writes the student's completions of the step's generation
    /// batch, in the order trained, with no rewards or advantage; the table shows `num_completions_to_print`.
    func testLogsTheStudentsCompletions() throws {
        let prepared = try Distillation.prepare(try config(["max_steps": "2", "save_strategy": "\"no\"", "log_completions": "true",
                                                            "num_completions_to_print": "3"]))
        let trainer = try prepared.trainer()
        let observer = RecordingObserver()
        trainer.observer = observer
        _ = try trainer.train()
        let config = prepared.algorithm.config
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let url = config.training.outputDirectory.appendingPathComponent(CompletionLogFile.name)
        let logged = try CompletionLogFile.read(url)
        XCTAssertEqual(logged.map(\.step), [1, 1, 1, 1, 2, 2, 2, 2])
        XCTAssertFalse(try String(contentsOf: url, encoding: .utf8).contains("advantage"))
        // The last step's generation batch is still the cached one, so its micro-batches are what was trained.
        let trained = try prepared.algorithm.microBatches(for: StepPosition(step: 1, epoch: 0, microBatches: 2..<4)).flatMap(\.rows)
        let entries = logged.filter { $0.step == 2 }.map(\.completion)
        XCTAssertEqual(entries.map(\.prompt), trained.map(\.prompt))
        XCTAssertEqual(entries.map(\.completion), trained.map { tokenizer.decode($0.completionIds, skipSpecialTokens: true) })
        XCTAssertEqual(entries.map(\.length), trained.map(\.completionIds.count))
        XCTAssertEqual(entries.map(\.clipped), trained.map(\.isTruncated))
        XCTAssert(entries.allSatisfy { $0.rewardNames.isEmpty && $0.advantage == nil })
        let table = CompletionTable.lines(try XCTUnwrap(prepared.algorithm.completionLog), step: 2)
        XCTAssertEqual(table.first, "completions at step 2 (3 of 4):")
        for line in table { XCTAssertLessThanOrEqual(line.count, CompletionTable.width, line) }
        XCTAssertEqual(observer.loggedCompletionSteps, [1, 2])
    }

    /// Without a teacher the factory says which field to set.
    func testMissingTeacherIsNamed() throws {
        var config = try config()
        config.teacherModelNameOrPath = nil
        XCTAssertThrowsError(try Distillation.prepare(config)) { XCTAssert("\($0)".contains("teacher_model_name_or_path"), "\($0)") }
    }

    /// `teacher_model_revision` is the revision of the teacher's Hub id, as `model_revision` is the
    /// student's: one that contradicts the id's own `@revision` is refused before anything is fetched.
    func testTeacherRevisionReachesTheHubReference() throws {
        var config = try config()
        config.teacherModelNameOrPath = "example-org/teacher@v1"
        config.teacherModelRevision = "v2"
        XCTAssertThrowsError(try Distillation.prepare(config)) { error in
            XCTAssert("\(error)".contains("names revision 'v1' after '@' but the revision setting ('v2') names another"), "\(error)")
        }
        // teacher_model_init_kwargs' revision wins over teacher_model_revision, as TRL's setdefault lets it.
        config.teacherModelInitKwargs = KeywordArguments([ConfigEntry(key: "revision", value: .string("v3"))])
        XCTAssertThrowsError(try Distillation.prepare(config)) { error in
            XCTAssert("\(error)".contains("the revision setting ('v3') names another"), "\(error)")
        }
    }

    /// `teacher_model_init_kwargs`: the `from_pretrained` arguments that ask for what Fledge does are accepted
    /// (`dtype` auto/float32, `device_map` auto/cpu, `attn_implementation` eager/sdpa, `trust_remote_code`,
    /// `low_cpu_mem_usage`) and `revision` is honoured; a precision other than float32, `quantization_config`
    /// and any other key are refused by name with the reason.
    func testTeacherModelInitKwargsTakeWhatMeansSomethingHere() throws {
        func resolved(_ kwargs: String) throws -> ConfigResolution<DistillationConfig> {
            try resolve(DistillationConfig.self, "teacher_model_revision: main\nteacher_model_init_kwargs: \(kwargs)")
        }
        let accepted = try resolved(#"{dtype: float32, device_map: auto, attn_implementation: sdpa, trust_remote_code: false, "#
            + #"low_cpu_mem_usage: true, revision: v1}"#)
        XCTAssertEqual(accepted.report.errors, [])
        XCTAssertEqual(try accepted.config.teacherRevision(), "v1")
        let auto = try resolved(#"'{"torch_dtype": "auto"}'"#)
        XCTAssertEqual(auto.report.errors, [])
        XCTAssertEqual(try auto.config.teacherRevision(), "main")
        for (kwargs, message) in [
            ("{dtype: bfloat16}", "teacher_model_init_kwargs.dtype is bfloat16: TRL would load the teacher's weights in bfloat16"),
            ("{torch_dtype: float64}", "teacher_model_init_kwargs.torch_dtype is float64, not a dtype transformers loads"),
            ("{device_map: cuda}", "teacher_model_init_kwargs.device_map is cuda: Fledge runs the teacher on the CPU"),
            ("{quantization_config: {load_in_4bit: true}}", "set one of those instead"),
            ("{use_kernels: true}", "teacher_model_init_kwargs.use_kernels is not an argument of Fledge's teacher loading"),
        ] {
            let errors = try resolved(kwargs).report.errors
            XCTAssertEqual(errors.count, 1, kwargs)
            XCTAssert(errors.first?.text.contains(message) ?? false, "\(kwargs): \(errors)")
            XCTAssertEqual(errors.first?.field, "teacher_model_init_kwargs", kwargs)
        }
    }
}
