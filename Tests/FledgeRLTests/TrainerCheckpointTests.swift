import Foundation
import XCTest
@testable import FledgeRL

/// Checkpoints, resume, stopping and pruning of the trainer loop.
final class TrainerCheckpointTests: TemporaryDirectoryTestCase {
    /// Training 10 steps straight and training 5, stopping, resuming from checkpoint-5 and training 5
    /// more give bit-identical weights and logged losses: full fine-tuning with AdamW's moments,
    /// and LoRA (plain and DoRA, with its magnitudes) whose dropout masks come from generators the
    /// checkpoint must restore.
    func testResumeContinuesExactly() throws {
        try assertResumeIsExact(lora: nil, name: "full")
        try assertResumeIsExact(lora: LoRAOptions(r: 4, alpha: 8, dropout: 0.2, targetModules: ["all-linear"], seed: 5),
                                name: "lora")
        try assertResumeIsExact(lora: LoRAOptions(r: 4, alpha: 8, dropout: 0.2, targetModules: ["all-linear"], useDoRA: true, seed: 5),
                                name: "dora")
    }

    private func assertResumeIsExact(lora: LoRAOptions?, name: String) throws {
        var arguments = Self.arguments(maxSteps: 10)
        arguments.saveSteps = 5
        arguments.outputDir = directory.appendingPathComponent("\(name)-straight").path
        let straight = try SFTRun(arguments: arguments, lora: lora)
        XCTAssertEqual(try straight.trainer.train().status, .completed, name)

        arguments.outputDir = directory.appendingPathComponent("\(name)-resumed").path
        let stopped = try SFTRun(arguments: arguments, lora: lora).trainUntilStopped(at: 5).outcome
        XCTAssertEqual(stopped.status, .stopped, name)
        XCTAssertEqual(stopped.state.globalStep, 5, name)
        XCTAssertEqual(stopped.lastCheckpoint?.lastPathComponent, "checkpoint-5", name)

        arguments.resumeFromCheckpoint = "true"
        let second = try SFTRun(arguments: arguments, lora: lora)
        let parameters = second.model.trainableParameters, reference = straight.model.trainableParameters
        XCTAssertGreaterThan(maxDifference(parameters, reference), 0, "\(name): a fresh model must differ before resuming")
        XCTAssertEqual(try second.trainer.train().status, .completed, name)
        XCTAssertEqual(maxDifference(parameters, reference), 0, "\(name): resumed weights differ from straight training")
        XCTAssertEqual(second.trainer.optimizer.stepCount, 10, name)
        let straightLog = try MetricsFile.records(at: straight.trainer.checkpoints.directory.appendingPathComponent("metrics.jsonl"))
        let resumedLog = try MetricsFile.records(at: second.trainer.checkpoints.directory.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(resumedLog.map(\.step), Array(1...10), name)
        XCTAssertEqual(resumedLog.map { $0["loss"]! }, straightLog.map { $0["loss"]! }, name)
        XCTAssertEqual(resumedLog.map { $0["epoch"]! }, straightLog.map { $0["epoch"]! }, name)
    }

    /// `save_only_model` checkpoints hold the weights (the same as a full checkpoint's) and the
    /// training state, not the optimizer state, schedule or generator states; resuming from one is
    /// refused with the reason.
    func testSaveOnlyModelWritesWeightsAndRefusesToResume() throws {
        var arguments = Self.arguments(maxSteps: 4)
        arguments.saveSteps = 2
        arguments.outputDir = directory.appendingPathComponent("full").path
        let full = try SFTRun(arguments: arguments, lora: nil)
        XCTAssertEqual(try full.trainer.train().status, .completed)
        arguments.saveOnlyModel = true
        arguments.outputDir = directory.appendingPathComponent("model-only").path
        let modelOnly = try SFTRun(arguments: arguments, lora: nil)
        XCTAssertEqual(try modelOnly.trainer.train().status, .completed)

        let fullCheckpoint = full.trainer.checkpoints.checkpoint(step: 2)
        let checkpoint = modelOnly.trainer.checkpoints.checkpoint(step: 2)
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: checkpoint.path))
        XCTAssertEqual(names.intersection(["optimizer.safetensors", "scheduler.json", "rng_state.json"]), [], "\(names)")
        XCTAssert(names.contains("trainer_state.json"), "\(names)")
        let fullNames = Set(try FileManager.default.contentsOfDirectory(atPath: fullCheckpoint.path))
        let weightFiles = fullNames.filter { $0.hasSuffix(".safetensors") && $0 != "optimizer.safetensors" }
        XCTAssertFalse(weightFiles.isEmpty, "\(fullNames)")
        for weights in weightFiles {
            XCTAssertEqual(try Data(contentsOf: checkpoint.appendingPathComponent(weights)),
                           try Data(contentsOf: fullCheckpoint.appendingPathComponent(weights)), weights)
        }

        arguments.resumeFromCheckpoint = checkpoint.path
        arguments.maxSteps = 6
        XCTAssertThrowsError(try SFTRun(arguments: arguments, lora: nil).trainer.train()) { error in
            XCTAssert("\(error)".contains("it was saved with save_only_model: true"), "\(error)")
        }
    }

    /// A save that fails halfway leaves no checkpoint-N and no temporary directory, and the previous
    /// checkpoint stays complete; a temporary directory left by a crash is ignored by `latest` and
    /// removed, and the run resumes from the last complete checkpoint.
    func testInterruptedSaveKeepsThePreviousCheckpoint() throws {
        let output = directory.appendingPathComponent("run")
        var arguments = Self.arguments(maxSteps: 6)
        arguments.saveSteps = 2
        arguments.outputDir = output.path
        let run = try SFTRun(arguments: arguments, failSaveAtCall: 2)
        XCTAssertThrowsError(try run.trainer.train()) { error in
            XCTAssert("\(error)".contains("disk full"), "\(error)")
        }
        let store = CheckpointStore(directory: output)
        XCTAssertEqual(store.checkpoints().map(\.step), [2])
        let names = try FileManager.default.contentsOfDirectory(atPath: output.path).sorted()
        XCTAssertEqual(names, ["checkpoint-2", "metrics.jsonl"])

        // A crash while writing checkpoint-4 leaves a partial temporary directory behind.
        let leftover = output.appendingPathComponent(".tmp-checkpoint-4")
        try FileManager.default.createDirectory(at: leftover, withIntermediateDirectories: true)
        try Data("partial".utf8).write(to: leftover.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(store.latest()?.lastPathComponent, "checkpoint-2")

        arguments.resumeFromCheckpoint = "latest"
        let resumed = try SFTRun(arguments: arguments)
        let outcome = try resumed.trainer.train()
        XCTAssertEqual(outcome.status, .completed)
        XCTAssertFalse(FileManager.default.fileExists(atPath: leftover.path))
        XCTAssertEqual(store.checkpoints().map(\.step), [2, 4, 6])
        XCTAssertEqual(try MetricsFile.records(at: output.appendingPathComponent("metrics.jsonl")).map(\.step), Array(1...6))
    }

    /// A stop request saves a checkpoint at the end of the current step even between save steps.
    func testStopRequestSavesACheckpoint() throws {
        var arguments = Self.arguments(maxSteps: 8)
        arguments.saveSteps = 100
        arguments.outputDir = directory.path
        let (outcome, observer) = try SFTRun(arguments: arguments).trainUntilStopped(at: 3)
        XCTAssertEqual(outcome.status, .stopped)
        XCTAssertEqual(observer.steps, [1, 2, 3])
        XCTAssertEqual(observer.saved.map(\.lastPathComponent), ["checkpoint-3"])
        let state = try JSONParser.parse([UInt8](Data(contentsOf: directory.appendingPathComponent("checkpoint-3/trainer_state.json"))))
        XCTAssertEqual(state["global_step"], .int(3))
        XCTAssertEqual(state["max_steps"], .int(8))
        for file in ["model.safetensors", "optimizer.safetensors", "scheduler.json", "rng_state.json", "data_state.json"] {
            XCTAssert(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoint-3/" + file).path), file)
        }
    }

    /// `save_total_limit` keeps the newest checkpoints.
    func testSaveTotalLimitKeepsTheNewest() throws {
        var arguments = Self.arguments(maxSteps: 5)
        arguments.saveSteps = 1
        arguments.saveTotalLimit = 2
        arguments.outputDir = directory.path
        _ = try SFTRun(arguments: arguments).trainer.train()
        XCTAssertEqual(CheckpointStore(directory: directory).checkpoints().map(\.step), [4, 5])
        XCTAssert(FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path),
                  "the final weights are saved in the output directory")
    }

    /// A NaN loss stops the run naming the step, before the step is applied, and the last good
    /// checkpoint stays as it was.
    func testNaNLossStopsTheRun() throws {
        var arguments = TrainingArguments()
        arguments.maxSteps = 10
        arguments.saveSteps = 2
        arguments.gradientAccumulationSteps = 2
        arguments.learningRate = 0.01
        arguments.outputDir = directory.path
        let model = QuadraticModel()
        let algorithm = QuadraticAlgorithm(model: model, nanAtStep: 4)
        let trainer = try Trainer(algorithm: algorithm, model: model, arguments: arguments,
                                  optimizer: SGD(parameters: model.trainableParameters))
        let observer = RecordingObserver()
        trainer.observer = observer
        let checkpoint = directory.appendingPathComponent("checkpoint-2")
        var weightsAfterStep3: [Float] = []
        XCTAssertThrowsError(try trainer.train()) { error in
            guard case let TrainingError.nonFinite(quantity, _, step, lastCheckpoint) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(quantity, "loss")
            XCTAssertEqual(step, 4)
            XCTAssertEqual(lastCheckpoint, checkpoint.path)
            XCTAssert("\(error)".contains("step 4"), "\(error)")
        }
        weightsAfterStep3 = model.weight.toArray()
        XCTAssertEqual(observer.steps, [1, 2, 3])
        XCTAssertEqual(CheckpointStore(directory: directory).checkpoints().map(\.step), [2])
        let saved = try SafeTensorsFile(url: checkpoint.appendingPathComponent("weights.safetensors")).tensor("weight").toArray()
        XCTAssertNotEqual(saved, weightsAfterStep3, "checkpoint-2 must hold step 2's weights, not later ones")

        // Resuming from it with the fault gone trains to the end.
        arguments.resumeFromCheckpoint = checkpoint.path
        algorithm.nanAtStep = nil
        let resumed = try Trainer(algorithm: algorithm, model: model, arguments: arguments,
                                  optimizer: SGD(parameters: model.trainableParameters))
        XCTAssertEqual(try resumed.train().state.globalStep, 10)
    }

    /// A learning rate that makes training diverge ends in an infinite loss or gradient norm, named with its step.
    func testDivergenceStopsTheRun() throws {
        var arguments = TrainingArguments()
        arguments.maxSteps = 200
        arguments.saveStrategy = .no
        arguments.maxGradNorm = 0
        arguments.learningRate = 5
        arguments.lrSchedulerType = .constant
        arguments.outputDir = directory.path
        let model = QuadraticModel()
        let trainer = try Trainer(algorithm: QuadraticAlgorithm(model: model), model: model, arguments: arguments,
                                  optimizer: SGD(parameters: model.trainableParameters))
        XCTAssertThrowsError(try trainer.train()) { error in
            guard case let TrainingError.nonFinite(_, value, step, lastCheckpoint) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(value.isFinite)
            XCTAssert(step > 5 && step < 200, "diverged at step \(step)")
            XCTAssertNil(lastCheckpoint)
            print("divergence stopped: \(error)")
        }
    }

    static func arguments(maxSteps: Int) -> TrainingArguments {
        var arguments = TrainingArguments()
        arguments.maxSteps = maxSteps
        arguments.perDeviceTrainBatchSize = 2
        arguments.gradientAccumulationSteps = 2
        arguments.optim = .adamwTorch
        arguments.learningRate = 0.01
        arguments.warmupSteps = 2
        arguments.loggingSteps = 1
        return arguments
    }
}

/// SFT of the fixture model on the fixture prompt/completion rows with AdamW: full fine-tuning, or
/// LoRA with `lora` options.
struct SFTRun {
    let trainer: Trainer<SFT>
    let model: LanguageModel

    init(arguments: TrainingArguments, lora: LoRAOptions? = nil, failSaveAtCall: Int? = nil) throws {
        let model = try SFTFixtures.model()
        if let lora { try model.addLoRA(lora) } else { model.makeFullyTrainable() }
        self.model = model
        let dataset = try SFTDataset(file: SFTFixtures.directory.appendingPathComponent("prompt_completion.jsonl"),
                                     tokenizer: try SFTFixtures.tokenizer(), config: SFTConfig())
        let sft = try SFT(model: model, train: dataset.sequences,
                          config: .batches(arguments.perDeviceTrainBatchSize, evaluation: 2, dataSeed: arguments.seed))
        let trained: any TrainableModel = failSaveAtCall.map { FailingSave(model, failAtCall: $0) } ?? model
        trainer = try Trainer(algorithm: sft, model: trained, arguments: arguments)
    }

    /// Trains with a stop requested at the end of step `step`, as Ctrl-C would.
    func trainUntilStopped(at step: Int) throws -> (outcome: TrainingOutcome, observer: RecordingObserver) {
        try trainer.trainRecording(stoppingAt: step)
    }
}

/// A model whose n-th save writes part of a file and then fails, as a full disk would.
final class FailingSave: TrainableModel {
    let model: LanguageModel
    let failAtCall: Int
    private var calls = 0

    init(_ model: LanguageModel, failAtCall: Int) {
        self.model = model
        self.failAtCall = failAtCall
    }

    var trainableParameters: [Parameter] { model.trainableParameters }
    var randomStates: [String: UInt64] { model.randomStates }
    func restoreRandomStates(_ states: [String: UInt64]) throws { try model.restoreRandomStates(states) }
    func loadTrainedWeights(from directory: URL) throws { try model.loadTrainedWeights(from: directory) }

    func saveTrainedWeights(to directory: URL) throws {
        calls += 1
        guard calls == failAtCall else { return try model.saveTrainedWeights(to: directory) }
        try Data("partial".utf8).write(to: directory.appendingPathComponent("model.safetensors"))
        throw CocoaError(.fileWriteOutOfSpace, userInfo: [NSLocalizedDescriptionKey: "disk full"])
    }
}
