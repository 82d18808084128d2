import Foundation
import XCTest
@testable import FledgeRL

/// The loop's step geometry, loss scaling and logging, against the HF Trainer's rules.
final class TrainerLoopTests: TemporaryDirectoryTestCase {
    /// 7 micro-batches with 3 accumulated make steps of 3, 3 and 1 micro-batches; 2.5 epochs are
    /// ceil(2.5 × 3) = 8 steps; the epoch after a step counts micro-batches done.
    func testPlanFollowsTheHFTrainerGeometry() throws {
        var arguments = TrainingArguments()
        arguments.gradientAccumulationSteps = 3
        arguments.numTrainEpochs = 2.5
        let plan = try TrainingPlan(arguments: arguments, microBatchesPerEpoch: 7)
        XCTAssertEqual(plan.stepsPerEpoch, 3)
        XCTAssertEqual(plan.maxSteps, 8)
        XCTAssertEqual(plan.epochs, 3)
        XCTAssertEqual((0..<8).map { plan.position(afterSteps: $0).microBatches },
                       [0..<3, 3..<6, 6..<7, 0..<3, 3..<6, 6..<7, 0..<3, 3..<6])
        XCTAssertEqual((0..<8).map { plan.position(afterSteps: $0).epoch }, [0, 0, 0, 1, 1, 1, 2, 2])
        XCTAssertEqual(plan.epochProgress(after: plan.position(afterSteps: 1)), 6.0 / 7.0, accuracy: 1e-12)
        XCTAssertEqual(plan.epochProgress(after: plan.position(afterSteps: 2)), 1)
        XCTAssert(plan.endsEpoch(plan.position(afterSteps: 5)))

        arguments.maxSteps = 4
        XCTAssertEqual(try TrainingPlan(arguments: arguments, microBatchesPerEpoch: 7).maxSteps, 4)
        XCTAssertThrowsError(try TrainingPlan(arguments: arguments, microBatchesPerEpoch: 0)) { error in
            XCTAssert("\(error)".contains("no batches"), "\(error)")
        }
    }

    /// Micro-batch means are divided by the number of micro-batches: accumulating two copies of a
    /// loss gives the same update as one.
    func testPerMicroBatchLossesAreAveragedOverTheStep() throws {
        func train(accumulation: Int) throws -> [Float] {
            var arguments = TrainingArguments()
            arguments.maxSteps = 3
            arguments.gradientAccumulationSteps = accumulation
            arguments.learningRate = 0.05
            arguments.maxGradNorm = 0  // no clipping, which would hide a wrong scale
            arguments.saveStrategy = .no
            arguments.outputDir = directory.appendingPathComponent("ga\(accumulation)").path
            let model = QuadraticModel()
            _ = try Trainer(algorithm: QuadraticAlgorithm(model: model), model: model, arguments: arguments,
                            optimizer: SGD(parameters: model.trainableParameters)).train()
            return model.weight.toArray()
        }
        let single = try train(accumulation: 1), double = try train(accumulation: 2)
        XCTAssertLessThan(maxAbsDifference(single, double), 1e-7)
        XCTAssertGreaterThan(maxAbsDifference(single, QuadraticModel().weight.toArray()), 0.1)
    }

    /// Each log holds the mean step loss since the previous log, the learning rate and gradient
    /// norm of its last step, the metrics' means, cumulative tokens and resource figures; the same
    /// records go to metrics.jsonl and trainer_state.json's log_history.
    func testLogsAverageTheStepsSinceTheLastLog() throws {
        var arguments = TrainingArguments()
        arguments.maxSteps = 7
        arguments.loggingSteps = 3
        arguments.loggingFirstStep = true
        arguments.learningRate = 0.01
        arguments.maxGradNorm = 100
        arguments.outputDir = directory.path
        let model = QuadraticModel()
        let trainer = try Trainer(algorithm: QuadraticAlgorithm(model: model), model: model, arguments: arguments,
                                  optimizer: SGD(parameters: model.trainableParameters))
        let observer = StepLossObserver()
        trainer.observer = observer
        let outcome = try trainer.train()
        let records = try MetricsFile.records(at: directory.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(records.map(\.step), [1, 3, 6])
        XCTAssertEqual(records, outcome.state.logHistory)
        XCTAssertEqual(records[0].values.map(\.name), ["epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second",
                                                       "peak_memory_mb", "elapsed_seconds", "num_tokens", "distance"])
        let losses = observer.losses
        XCTAssertEqual(records[0]["loss"]!, losses[0], accuracy: 1e-12)
        XCTAssertEqual(records[1]["loss"]!, (losses[1] + losses[2]) / 2, accuracy: 1e-9)
        XCTAssertEqual(records[2]["loss"]!, (losses[3] + losses[4] + losses[5]) / 3, accuracy: 1e-9)
        // Linear decay from 0.01 over 7 steps: step 6 (index 5) used 0.01 × 2/7.
        XCTAssertEqual(records[2]["learning_rate"]!, 0.01 * 2 / 7, accuracy: 1e-15)
        XCTAssertEqual(records[2]["epoch"]!, 1.5)
        XCTAssertEqual(records[2]["num_tokens"]!, 6 * 6 * 1)
        XCTAssertGreaterThan(records[2]["peak_memory_mb"]!, 1)
        XCTAssertGreaterThan(records[2]["grad_norm"]!, 0)
        let state = try JSONParser.parse([UInt8](Data(contentsOf: directory.appendingPathComponent("trainer_state.json"))))
        guard case .object(let fields) = state else { return XCTFail("trainer_state.json is not an object") }
        XCTAssertEqual(fields.keys, ["best_global_step", "best_metric", "best_model_checkpoint", "epoch", "eval_steps",
                                     "global_step", "is_hyper_param_search", "is_local_process_zero", "is_world_process_zero",
                                     "log_history", "logging_steps", "max_steps", "num_input_tokens_seen", "num_train_epochs",
                                     "save_steps", "stateful_callbacks", "total_flos", "train_batch_size", "trial_name",
                                     "trial_params"])
        XCTAssertEqual(state["global_step"], .int(7))
        XCTAssertEqual(state["best_metric"], .null)
    }
}

/// `logging_strategy`, `eval_strategy` with `eval_delay`, and `eval_on_start`, as transformers 5.25's
/// `DefaultFlowCallback` and `Trainer._inner_training_loop` decide them.
final class TrainerScheduleTests: TemporaryDirectoryTestCase {
    /// The steps logged and the steps evaluated (a record with `eval_distance`) in a 10-step run of the
    /// quadratic problem, 4 steps an epoch.
    private func loggedAndEvaluatedSteps(_ configure: (inout TrainingArguments) -> Void) throws -> (logged: [Int], evaluated: [Int]) {
        var arguments = TrainingArguments()
        arguments.maxSteps = 10
        arguments.saveStrategy = .no
        arguments.learningRate = 0.01
        arguments.outputDir = directory.appendingPathComponent(UUID().uuidString).path
        configure(&arguments)
        let model = QuadraticModel()
        let algorithm = QuadraticAlgorithm(model: model)
        algorithm.evaluates = true
        let outcome = try Trainer(algorithm: algorithm, model: model, arguments: arguments,
                                  optimizer: SGD(parameters: model.trainableParameters)).train()
        let records = outcome.state.logHistory
        XCTAssertEqual(algorithm.evaluationCount, records.filter { $0["eval_distance"] != nil }.count)
        return (records.filter { $0["loss"] != nil }.map(\.step), records.filter { $0["eval_distance"] != nil }.map(\.step))
    }

    func testLoggingStrategy() throws {
        XCTAssertEqual(try loggedAndEvaluatedSteps { $0.loggingSteps = 3 }.logged, [3, 6, 9])
        // Each epoch's end, the last partial epoch (steps 9–10) included.
        XCTAssertEqual(try loggedAndEvaluatedSteps { $0.loggingStrategy = .epoch }.logged, [4, 8, 10])
        XCTAssertEqual(try loggedAndEvaluatedSteps { $0.loggingStrategy = .no }.logged, [])
        XCTAssertEqual(try loggedAndEvaluatedSteps {
            $0.loggingStrategy = .no
            $0.loggingFirstStep = true
        }.logged, [1])
        XCTAssertEqual(try loggedAndEvaluatedSteps {
            $0.loggingStrategy = .epoch
            $0.loggingFirstStep = true
        }.logged, [1, 4, 8, 10])
    }

    func testEvaluationDelayAndEvaluationOnStart() throws {
        XCTAssertEqual(try loggedAndEvaluatedSteps {
            $0.evalStrategy = .steps
            $0.evalSteps = 2
        }.evaluated, [2, 4, 6, 8, 10])
        // No evaluation before step 5; the last step (9) is evaluated though 9 is not a multiple of 2.
        XCTAssertEqual(try loggedAndEvaluatedSteps {
            $0.maxSteps = 9
            $0.evalStrategy = .steps
            $0.evalSteps = 2
            $0.evalDelay = 5
        }.evaluated, [6, 8, 9])
        // The delay counts epochs with eval_strategy: epoch: epochs end after steps 4 (1.0), 8 (2.0), 10 (2.5).
        XCTAssertEqual(try loggedAndEvaluatedSteps {
            $0.evalStrategy = .epoch
            $0.evalDelay = 1.5
        }.evaluated, [8, 10])
        XCTAssertEqual(try loggedAndEvaluatedSteps { $0.evalOnStart = true }.evaluated, [0])
        XCTAssertEqual(try loggedAndEvaluatedSteps {
            $0.evalOnStart = true
            $0.evalStrategy = .epoch
        }.evaluated, [0, 4, 8, 10])
    }

    /// A resumed run evaluates again before its first step with `eval_on_start`, as transformers does,
    /// logged at the step it resumes from.
    func testEvaluationOnStartAfterResuming() throws {
        var arguments = TrainingArguments()
        arguments.maxSteps = 6
        arguments.saveSteps = 3
        arguments.learningRate = 0.01
        arguments.evalOnStart = true
        arguments.outputDir = directory.path
        let model = QuadraticModel()
        let first = QuadraticAlgorithm(model: model)
        first.evaluates = true
        let trainer = try Trainer(algorithm: first, model: model, arguments: arguments,
                                  optimizer: SGD(parameters: model.trainableParameters))
        XCTAssertEqual(try trainer.trainRecording(stoppingAt: 3).outcome.status, .stopped)

        arguments.resumeFromCheckpoint = directory.appendingPathComponent("checkpoint-3").path
        let resumedModel = QuadraticModel()
        let resumed = QuadraticAlgorithm(model: resumedModel)
        resumed.evaluates = true
        let outcome = try Trainer(algorithm: resumed, model: resumedModel, arguments: arguments,
                                  optimizer: SGD(parameters: resumedModel.trainableParameters)).train()
        XCTAssertEqual(outcome.state.logHistory.filter { $0["eval_distance"] != nil }.map(\.step), [0, 3])
        XCTAssertEqual(resumed.evaluationCount, 1)
    }
}

final class StepLossObserver: TrainingObserver {
    var losses: [Double] = []
    func trainingDidStep(_ progress: StepProgress) { losses.append(progress.loss) }
}
