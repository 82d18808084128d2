import Foundation
import FledgeNN
import FledgeTensor

/// The one training loop every algorithm shares.
///
/// Each optimizer step asks the algorithm for the step's micro-batches, runs forward and backward
/// on each (scaling the loss as ``LossScaling`` says), clips the global gradient norm to
/// `max_grad_norm`, and applies the optimizer at the schedule's learning rate. Around the steps it
/// logs (`metrics.jsonl`, `trainer_state.json`'s `log_history`), evaluates, and writes checkpoints
/// as the HF Trainer does; it resumes from one exactly, stops cleanly on a ``StopRequest``, and
/// stops with an error on a NaN or infinite loss or gradient norm before applying that step.
///
/// When the algorithm splits its data over several processes (``TrainingAlgorithm/communicator``),
/// every process runs this loop: gradients are averaged over the processes before clipping, losses
/// and metrics are combined, and process 0 alone writes metrics, checkpoints and the final weights.
public final class Trainer<Algorithm: TrainingAlgorithm> {
    public let algorithm: Algorithm
    public let model: any TrainableModel
    public let arguments: TrainingArguments
    public let optimizer: any Optimizer
    /// The step geometry of the run.
    public let plan: TrainingPlan
    /// Where checkpoints, `metrics.jsonl` and the final weights go.
    public let checkpoints: CheckpointStore
    /// Set it (from a signal handler, an observer …) to stop after the current step with a checkpoint.
    public let stopRequest = StopRequest()
    /// Told about each step, log and checkpoint.
    public var observer: (any TrainingObserver)?
    /// The config the run was resolved from, written to `config.resolved.yaml` in the output directory.
    public var resolvedConfig: (any ResolvedConfig)?

    let schedule: LearningRateSchedule
    let dataParallel: DataParallelSteps

    /// A trainer with the optimizer `optim` names over `model.trainableParameters`; the schedule,
    /// clipping, logging and checkpoint settings come from `arguments`.
    public convenience init(algorithm: Algorithm, model: any TrainableModel, arguments: TrainingArguments) throws {
        try self.init(algorithm: algorithm, model: model, arguments: arguments,
                      optimizer: arguments.optim.make(parameters: model.trainableParameters, arguments: arguments))
    }

    /// A trainer with the given optimizer (over `model.trainableParameters`); the schedule,
    /// clipping, logging and checkpoint settings come from `arguments`.
    public init(algorithm: Algorithm, model: any TrainableModel, arguments: TrainingArguments,
                optimizer: any Optimizer) throws {
        try arguments.checkRanges()
        self.algorithm = algorithm
        self.model = model
        self.arguments = arguments
        self.optimizer = optimizer
        dataParallel = try DataParallelSteps(communicator: algorithm.communicator)
        if algorithm.communicator.size == 1,
           let launched = ProcessGroup.launcherSize(environment: ProcessInfo.processInfo.environment), launched > 1 {
            throw TrainingError.invalidSetting("this process is one of \(launched) an MPI launcher started, but \(Algorithm.self) "
                + "does not split its data over processes; run it in one process (without mpirun)")
        }
        plan = try TrainingPlan(arguments: arguments, microBatchesPerEpoch: algorithm.microBatchesPerEpoch)
        checkpoints = CheckpointStore(directory: arguments.outputDirectory)
        let shape: LearningRateShape
        do {
            shape = try arguments.learningRateShape()
        } catch {
            throw TrainingError.invalidSetting(error.description)
        }
        schedule = LearningRateSchedule(
            shape: shape, baseLearningRate: arguments.learningRate,
            warmupSteps: arguments.warmupStepCount(totalSteps: plan.maxSteps), totalSteps: plan.maxSteps)
    }

    /// Runs the training to `max_steps` (from `resume_from_checkpoint` when set) and saves the final
    /// weights into the output directory, or stops early on a ``StopRequest`` after saving a checkpoint.
    public func train() throws -> TrainingOutcome {
        let resumePoint = try checkpoints.resolve(arguments.resumeFromCheckpoint)
        if dataParallel.isPrimary {
            if resumePoint == nil { try checkpoints.claimForFreshRun(overwrite: arguments.overwriteOutputDir) }
            try checkpoints.prepare()
        }
        var run = RunState(state: TrainerState(plan: plan, arguments: arguments))
        if let checkpoint = resumePoint {
            try restore(from: checkpoint, into: &run)
            run.lastCheckpoint = checkpoint
        } else {
            try dataParallel.decorrelateRandomStates(of: model)
        }
        try dataParallel.requireIdenticalWeights(optimizer.parameters, when: "at the start")
        if let resolvedConfig, dataParallel.isPrimary { try ResolvedConfigFile.write(resolvedConfig, to: checkpoints.directory) }
        let metrics = dataParallel.isPrimary
            ? try MetricsFile(directory: checkpoints.directory, completedSteps: run.state.globalStep) : nil
        var completionFile: CompletionLogFile?  // opened at the first completion log
        let session = SessionClock(elapsedBefore: run.elapsedBefore, firstStep: run.state.globalStep)
        observer?.trainingWillStart(session.progress(of: run.state, loss: .nan))
        var window = LogWindow(), windowStart = session.now
        if arguments.evalOnStart { try evaluate(state: &run.state, metrics: metrics) }

        while run.state.globalStep < plan.maxSteps {
            let position = plan.position(afterSteps: run.state.globalStep)
            let step = try Autocast.$precision.withValue(arguments.productPrecision) {
                try runStep(at: position, window: &window, lastCheckpoint: run.lastCheckpoint)
            }
            run.state.globalStep += 1
            try algorithm.stepDidFinish(globalStep: run.state.globalStep)
            run.state.epoch = plan.epochProgress(after: position)
            run.state.numInputTokensSeen += step.tokens
            let isLast = run.state.globalStep == plan.maxSteps
            observer?.trainingDidStep(session.progress(of: run.state, loss: step.loss))

            if shouldLog(position, isLast: isLast) {
                try window.averageMetrics(over: dataParallel.communicator, step: run.state.globalStep)
                try dataParallel.requireIdenticalWeights(optimizer.parameters, when: "after step \(run.state.globalStep)")
                let now = session.now
                let record = window.record(
                    step: run.state.globalStep, epoch: run.state.epoch, learningRate: step.learningRate,
                    gradNorm: step.gradNorm, seconds: now - windowStart, elapsed: session.elapsed(at: now),
                    totalTokens: run.state.numInputTokensSeen,
                    peakMemoryMB: Double(MemoryStats.peakResidentBytes) / 1_048_576)
                windowStart = now
                try log(record, to: metrics, state: &run.state)
                if dataParallel.isPrimary, let log = algorithm.completionLog {
                    if completionFile == nil {
                        completionFile = try CompletionLogFile(directory: checkpoints.directory, completedSteps: session.firstStep)
                    }
                    try completionFile!.append(log, step: run.state.globalStep)
                    observer?.trainingDidLogCompletions(log, step: run.state.globalStep)
                }
            }
            if shouldEvaluate(position, epoch: run.state.epoch, isLast: isLast) {
                try evaluate(state: &run.state, metrics: metrics)
            }
            let stopping = try dataParallel.anyProcess(stopRequest.isRequested, purpose: "the stop check of step \(run.state.globalStep)")
                && !isLast
            if shouldSave(position, isLast: isLast) || stopping {
                run.lastCheckpoint = try saveCheckpoint(
                    run.state, elapsed: session.elapsed(at: session.now), lastCheckpoint: run.lastCheckpoint)
                observer?.trainingDidSave(checkpoint: run.lastCheckpoint!)
            }
            if stopping { return TrainingOutcome(status: .stopped, state: run.state, lastCheckpoint: run.lastCheckpoint) }
        }
        if dataParallel.isPrimary {
            try requireFiniteState(step: run.state.globalStep, lastCheckpoint: run.lastCheckpoint)
            try model.saveTrainedWeights(to: checkpoints.directory)
            try AtomicFile.write(Data(run.state.jsonText.utf8), to: checkpoints.directory.appendingPathComponent(TrainerState.fileName))
        }
        return TrainingOutcome(status: .completed, state: run.state, lastCheckpoint: run.lastCheckpoint)
    }

    /// One optimizer step: forward and backward over the step's micro-batches, clipping, update.
    private func runStep(at position: StepPosition, window: inout LogWindow, lastCheckpoint: URL?) throws -> StepResult {
        let step = position.step + 1
        let communicationBefore = dataParallel.communicator.collectiveSeconds
        let batches = try algorithm.microBatches(for: position)
        guard batches.count == position.microBatches.count else {
            throw TrainingError.algorithm("step \(step): the algorithm gave \(batches.count) micro-batches for "
                + "micro-batches \(position.microBatches) of epoch \(position.epoch); it must give one per index")
        }
        let divisor = algorithm.lossScaling == .perMicroBatch ? Float(batches.count) : 1
        var stepLoss = 0.0, tokens = 0
        for batch in batches {
            let result = try algorithm.loss(of: batch)
            let value = Double(result.loss.item())
            guard value.isFinite else {
                optimizer.zeroGrad()
                throw TrainingError.nonFinite(quantity: "loss", value: value, step: step, lastCheckpoint: lastCheckpoint?.path)
            }
            // An empty micro-batch (a process's share past the end of an epoch) has a constant loss and adds no gradient.
            if result.gradientIsExactlyZero {
                for parameter in optimizer.parameters where parameter.tensor.grad == nil {
                    parameter.tensor.grad = Tensor.zeros(parameter.tensor.shape)
                }
            } else if result.tokens > 0 || result.loss.requiresGrad {
                (divisor == 1 ? result.loss : result.loss / divisor).backward()
            }
            stepLoss += value / Double(divisor)
            tokens += result.tokens
            window.addMetrics(result.metrics)
        }
        try dataParallel.averageGradients(optimizer.parameters, step: step)
        // The pre-clip norm is logged and checked even when max_grad_norm ≤ 0 turns clipping off.
        let gradNorm = GradientClipping.clipGlobalNorm(
            optimizer.parameters, maxNorm: arguments.maxGradNorm > 0 ? arguments.maxGradNorm : .infinity)
        guard gradNorm.isFinite else {
            optimizer.zeroGrad()
            throw TrainingError.nonFinite(quantity: "gradient norm", value: gradNorm, step: step, lastCheckpoint: lastCheckpoint?.path)
        }
        let learningRate = schedule.learningRate(step: position.step)
        optimizer.step(learningRate: learningRate)
        optimizer.zeroGrad()
        let totals = try dataParallel.combine(loss: stepLoss, tokens: tokens, step: step)
        window.addStep(loss: totals.loss, tokens: totals.tokens)
        if dataParallel.communicator.size > 1 {
            window.addMetrics(["communication_seconds": dataParallel.communicator.collectiveSeconds - communicationBefore])
        }
        return StepResult(loss: totals.loss, gradNorm: gradNorm, learningRate: learningRate, tokens: totals.tokens)
    }

    private func log(_ record: MetricsRecord, to metrics: MetricsFile?, state: inout TrainerState) throws {
        state.logHistory.append(record)
        try metrics?.append(record)
        observer?.trainingDidLog(record)
    }

    /// Runs the algorithm's evaluation, if it has one, and logs its results as `eval_*` at the current step.
    private func evaluate(state: inout TrainerState, metrics: MetricsFile?) throws {
        guard let results = try Autocast.$precision.withValue(arguments.productPrecision, operation: { try algorithm.evaluate() })
        else { return }
        var record = MetricsRecord(step: state.globalStep, values: [("epoch", state.epoch)])
        for name in results.keys.sorted() { record.set("eval_" + name, results[name]!) }
        try log(record, to: metrics, state: &state)
    }

    /// transformers' `DefaultFlowCallback`: every `logging_steps` steps or at each epoch's end (the last,
    /// possibly partial, epoch included), and the first step with `logging_first_step`.
    private func shouldLog(_ position: StepPosition, isLast: Bool) -> Bool {
        let step = position.step + 1
        if step == 1 && arguments.loggingFirstStep { return true }
        switch arguments.loggingStrategy {
        case .no: return false
        case .steps: return step % arguments.loggingSteps == 0
        case .epoch: return plan.endsEpoch(position) || isLast
        }
    }

    /// transformers' `DefaultFlowCallback`: every `eval_steps` steps and after the last step, or at each
    /// epoch's end; never before `eval_delay` steps or epochs (`epoch` is the progress after this step).
    private func shouldEvaluate(_ position: StepPosition, epoch: Double, isLast: Bool) -> Bool {
        let step = position.step + 1
        switch arguments.evalStrategy {
        case .no: return false
        case .steps:
            return (step % (arguments.evalSteps ?? arguments.loggingSteps) == 0 || isLast) && arguments.evalDelay <= Double(step)
        case .epoch:
            return (plan.endsEpoch(position) || isLast) && arguments.evalDelay <= epoch
        }
    }

    private func shouldSave(_ position: StepPosition, isLast: Bool) -> Bool {
        switch arguments.saveStrategy {
        case .no: false
        case .steps: (position.step + 1) % arguments.saveSteps == 0 || isLast
        case .epoch: plan.endsEpoch(position) || isLast
        }
    }
}

/// How a run ended.
public struct TrainingOutcome: Sendable {
    public enum Status: Sendable {
        /// The run reached `max_steps`; the final weights are in the output directory.
        case completed
        /// A ``StopRequest`` ended the run early, after saving a checkpoint.
        case stopped
    }

    public let status: Status
    /// The trainer state at the end (`global_step`, `epoch`, `log_history` …).
    public let state: TrainerState
    /// The newest checkpoint, if any was written or resumed from.
    public let lastCheckpoint: URL?
}

/// What one optimizer step produced.
struct StepResult {
    let loss: Double
    let gradNorm: Double
    let learningRate: Double
    let tokens: Int
}

/// The state of a run that survives into a checkpoint, with what resuming adds to it.
struct RunState {
    var state: TrainerState
    var lastCheckpoint: URL?
    /// Wall time of the run before this process (from the checkpoint resumed from).
    var elapsedBefore = 0.0
}

/// Wall time of this process's part of the run.
struct SessionClock {
    let start = Date()
    let elapsedBefore: Double
    let firstStep: Int

    var now: Double { Date().timeIntervalSince(start) }

    func elapsed(at now: Double) -> Double { elapsedBefore + now }

    func progress(of state: TrainerState, loss: Double) -> StepProgress {
        StepProgress(step: state.globalStep, maxSteps: state.maxSteps, epoch: state.epoch, loss: loss,
                     seconds: now, stepsThisSession: state.globalStep - firstStep)
    }
}
