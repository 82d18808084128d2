import Foundation
import XCTest
import FledgeTensor
@testable import FledgeRL

final class LoadingTests: XCTestCase {
    func testNumbersInYAMLAndJSON() throws {
        for (source, text) in [
            ("yaml", "learning_rate: 1e-5\nwarmup_steps: 1E-1\nnum_train_epochs: 1"),
            ("json", #"{"learning_rate": 1e-5, "warmup_steps": 0.1, "num_train_epochs": 1}"#),
            ("quoted", "learning_rate: \"1e-5\"\nwarmup_steps: '0.1'\nnum_train_epochs: '1'"),
        ] {
            let resolved = try resolve(GRPOConfig.self, text)
            XCTAssertEqual(resolved.config.training.learningRate, 1e-5, source)
            XCTAssertEqual(resolved.config.training.warmupSteps, 0.1, source)
            XCTAssertEqual(resolved.config.training.numTrainEpochs, 1, source)
        }
        XCTAssertEqual(ConfigDocument.plainScalar("1e-5"), .double(1e-5))
        XCTAssertEqual(ConfigDocument.plainScalar("3407"), .int(3407))
        XCTAssertEqual(ConfigDocument.plainScalar("e5"), .string("e5"))
        XCTAssertEqual(ConfigDocument.plainScalar("~"), .null)
    }

    func testTypeErrorsNameTheField() throws {
        let resolved = try resolve(GRPOConfig.self, "num_generations: many\nuse_peft: maybe")
        assertMessages(resolved.report, [
            .error("num_generations", "expected an integer"), .error("use_peft", "expected true or false"),
        ], "types")
    }

    func testUnknownRetiredNotApplicableAndOtherTrainersFields() throws {
        let resolved = try resolve(GRPOConfig.self, """
            lerning_rate: 1e-5
            num_generation: 4
            max_prompt_length: 512
            rpo_alpha: 0.5
            fp16: true
            vllm_mode: colocate
            report_to: wandb
            model_adapter_name: null
            ref_adapter_name: ref
            label_smoothing_factor: 0.1
            label_smoothing: 0.1
            """)
        assertMessages(resolved.report, [
            .error("lerning_rate", "unknown field; did you mean learning_rate?"),
            .error("num_generation", "did you mean num_generations?"),
            .warning("max_prompt_length", "prompts are no longer truncated"),
            .error("rpo_alpha", "add sft to loss_type"),
            .error("fp16", "Fledge does not implement float16 mixed precision on the CPU"),
            .note("vllm_mode", "no vLLM"),
            .note("report_to", "no Hub or tracker"),
            .note("model_adapter_name", "not applicable at TRL's default"),
            .error("ref_adapter_name", "Fledge does not implement multiple named adapters (they name adapters of a PEFT model "
                + "built in Python"),
            .note("label_smoothing_factor", "ignored, as TRL ignores it outside SFT"),
            .error("label_smoothing", "is a DPOConfig field, not a GRPOConfig field (check with --trainer dpo)"),
        ], "classification")
        XCTAssertNil(NearestName.suggestion(for: "zzzzzzzz", among: ["learning_rate"]))
    }

    /// `bf16: true` turns on bfloat16 autocast for every trainer; absent or false is float32, as is
    /// TRL's `null` here (TRL reads it as true on an accelerator).
    func testBF16SetsTheProductPrecision() throws {
        XCTAssertEqual(try resolve(SFTConfig.self, "bf16: true").config.training.productPrecision, .bfloat16)
        XCTAssertEqual(try resolve(GRPOConfig.self, "bf16: true").config.training.productPrecision, .bfloat16)
        XCTAssertEqual(try resolve(DPOConfig.self, "bf16: false").config.training.productPrecision, .float32)
        XCTAssertEqual(try resolve(SFTConfig.self, "bf16: null").config.training.productPrecision, .float32)
        XCTAssertEqual(try resolve(SFTConfig.self, "").config.training.productPrecision, .float32)
        assertMessages(try resolve(SFTConfig.self, "bf16: yes please").report, [.error("bf16", "expected true or false")], "type")
    }

    func testPresetAndTrainerFromTheFileAndOverridesFromFlags() throws {
        let document = try ConfigDocument(yaml: "trainer: dpo\ndefaults: trl\nbeta: 0.2", source: "test")
        let resolved = ConfigResolver.resolve(document)
        XCTAssertEqual(resolved.trainer, .dpo)
        XCTAssertEqual(resolved.preset, .trl)
        XCTAssertEqual(value(resolved, "beta"), .double(0.2))
        XCTAssertEqual(value(resolved, "seed"), .int(42))

        let overridden = ConfigResolver.resolve(document, options: ConfigOptions(
            preset: .unsloth, overrides: try ConfigDocument(overrides: ["beta=0.3", "loss_type=[sigmoid, sft]"])))
        XCTAssertEqual(overridden.preset, .unsloth)
        XCTAssertEqual(value(overridden, "beta"), .double(0.3))
        XCTAssertEqual(value(overridden, "seed"), .int(3407))
        XCTAssertEqual(value(overridden, "loss_type"), .list([.string("sigmoid"), .string("sft")]))

        let mismatch = ConfigResolver.resolve(document, options: ConfigOptions(trainer: .grpo))
        XCTAssert(mismatch.report.errors.contains { $0.field == "trainer" })
        XCTAssertThrowsError(try ConfigDocument(overrides: ["beta"]))
        XCTAssertThrowsError(try ConfigDocument(yaml: "- a\n- b", source: "list"))
        XCTAssertThrowsError(try ConfigDocument(yaml: "beta: 1\nbeta: 2", source: "twice"))
    }

    func testWorldSizeFromTheLauncherFlag() throws {
        let resolved = try resolve(GRPOConfig.self, "num_generations: 4", worldSize: 3)
        XCTAssertEqual(resolved.worldSize, 3)
        XCTAssertEqual(resolved.config.generation.generationBatchSize, 24)
        let zero = try resolve(GRPOConfig.self, "", worldSize: 0)
        assertMessages(zero.report, [.error("world_size", "set the number of processes (--world-size or WORLD_SIZE) to an integer in [1, 1048576]")], "zero processes")
    }

    /// TRL's documented GRPO configs load with nothing but not-applicable notes.
    func testRealTRLGRPOConfigsLoadWithOnlyNotApplicableNotes() throws {
        for (name, notApplicable) in [
            ("trl_grpo_lora_without_regret.yaml", ["vllm_mode", "report_to"]),
            ("trl_grpo_cli.yaml", ["report_to", "num_processes", "use_vllm"]),
        ] {
            let document = try ConfigDocument(contentsOf: fixtureURL(name))
            let resolved = ConfigResolver.resolve(document, options: ConfigOptions(worldSize: 1))
            XCTAssertEqual(resolved.trainer, .grpo)
            XCTAssertEqual(resolved.report.messages.map(\.field).sorted(), notApplicable.sorted(), name)
            XCTAssert(resolved.report.messages.allSatisfy { $0.kind == .note && $0.text.hasPrefix("not applicable") }, name)
        }
    }

    func testResolvedFileReadsBackToTheSameConfig() throws {
        let resolved = try resolve(GRPOConfig.self, """
            loss_type: dapo
            per_device_train_batch_size: 3
            gradient_accumulation_steps: 1
            lora_target_modules: [q_proj, v_proj]
            output_dir: "runs/a: b"
            reward_command: "python3 score.py --flag 'x'"
            """)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-config-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try ResolvedConfigFile.write(resolved, to: directory)
        XCTAssertEqual(url.lastPathComponent, "config.resolved.yaml")
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssert(text.contains("# generation_batch_size: 8  (derived)"), text)
        let again = ConfigResolver.resolve(try ConfigDocument(contentsOf: url), options: ConfigOptions(worldSize: 1))
        XCTAssertEqual(again.entries, resolved.entries)
        XCTAssertEqual(again.report.messages.filter { $0.kind != .warning }, [])
        XCTAssertEqual(again.preset, .unsloth)
    }

    func testJSONReport() throws {
        let resolved = try resolve(GRPOConfig.self, "per_device_train_batch_size: 3\ngradient_accumulation_steps: 1\nfp16: false")
        let json = ConfigReportRendering.json(of: resolved)
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        XCTAssertEqual(Set(object.keys), ["config", "changes", "warnings", "notes", "errors"])
        let change = (object["changes"] as! [[String: Any]])[0]
        XCTAssertEqual(change["field"] as? String, "per_device_train_batch_size")
        XCTAssertEqual(change["from"] as? Int, 3)
        XCTAssertEqual(change["to"] as? Int, 8)
        XCTAssertNotNil(change["reason"] as? String)
        XCTAssertEqual((object["config"] as! [String: Any])["learning_rate"] as? Double, 5e-5)
        XCTAssertEqual((object["config"] as! [String: Any])["trainer"] as? String, "grpo")
        XCTAssertEqual((object["notes"] as! [[String: Any]])[0]["field"] as? String, "fp16")
    }

    func testWarmup() {
        var training = TrainingArguments()
        training.warmupRatio = 0.1
        XCTAssertEqual(training.warmupStepCount(totalSteps: 95), 10)
        training.warmupSteps = 0.05
        XCTAssertEqual(training.warmupStepCount(totalSteps: 100), 5)
        training.warmupSteps = 7
        XCTAssertEqual(training.warmupStepCount(totalSteps: 100), 7)
    }
}

final class ModelLengthTests: XCTestCase {
    func testMaxSeqLengthComesFromTheModelAndIsCappedToIt() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-model-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try #"{"max_position_embeddings": 2048}"#.write(
            to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let model = "model_name_or_path: \(directory.path)"
        let fromModel = try resolve(SFTConfig.self, model)
        XCTAssertEqual(fromModel.config.training.maxSeqLength, 2048)
        XCTAssert(fromModel.derivedFields.contains("max_seq_length"))
        assertMessages(fromModel.report, [], "from the model")
        let capped = try resolve(GRPOConfig.self, model + "\nmax_seq_length: 4096")
        assertMessages(capped.report, [.change("max_seq_length", "capped to the model's max_position_embeddings (2048)")], "capped")
        let kept = try resolve(GRPOConfig.self, "model_name_or_path: /no/such/model\nmax_seq_length: 4096")
        XCTAssertEqual(kept.config.training.maxSeqLength, 4096)
    }
}
