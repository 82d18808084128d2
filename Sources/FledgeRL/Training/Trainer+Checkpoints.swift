import Foundation
import FledgeLM
import FledgeTensor

/// The files of a checkpoint besides the weights and `trainer_state.json`.
enum CheckpointFile {
    static let optimizer = "optimizer.safetensors"
    static let scheduler = "scheduler.json"
    static let randomStates = "rng_state.json"

    /// The generator states of process `rank` (HF's `rng_state_{process_index}`; process 0 keeps
    /// the one-process name).
    static func randomStates(rank: Int) -> String { rank == 0 ? randomStates : "rng_state_\(rank).json" }
    static let dataPosition = "data_state.json"
}

extension Trainer {
    /// Writes `checkpoint-N` atomically: weights, optimizer state, schedule position, generator
    /// states (one file per process; these three not with `save_only_model`), data position, then
    /// `trainer_state.json`. Every process
    /// takes part (their generator states are gathered); process 0 writes, after checking that no
    /// weight or optimizer state is NaN or infinite (`lastCheckpoint` is named in that error).
    func saveCheckpoint(_ state: TrainerState, elapsed: Double, lastCheckpoint: URL?) throws -> URL {
        let states = JSONObject([("model", Self.json(model.randomStates)), ("algorithm", Self.json(algorithm.randomStates))])
        let communicator = dataParallel.communicator
        let allStates = try communicator.allGather(JSONWriter().string(.object(states)),
                                                   purpose: "the generator states of checkpoint \(state.globalStep)")
        guard communicator.isPrimary else { return checkpoints.checkpoint(step: state.globalStep) }
        try requireFiniteState(step: state.globalStep, lastCheckpoint: lastCheckpoint)
        return try checkpoints.save(step: state.globalStep, keep: arguments.saveTotalLimit) { directory in
            try model.saveTrainedWeights(to: directory)
            if !arguments.saveOnlyModel {
                try SafeTensorsWriter.write(optimizer.stateEntries(), to: directory.appendingPathComponent(CheckpointFile.optimizer))
                try algorithm.saveState(to: directory)
                try CheckpointFiles.writeJSON(schedulerJSON(completedSteps: state.globalStep),
                                              to: directory.appendingPathComponent(CheckpointFile.scheduler))
                for (rank, text) in allStates.enumerated() {
                    try CheckpointFiles.writeJSON(try JSONParser.parse(text),
                                                  to: directory.appendingPathComponent(CheckpointFile.randomStates(rank: rank)))
                }
            }
            let next = plan.position(afterSteps: state.globalStep)
            let position = JSONObject([
                ("epoch", .int(next.epoch)), ("micro_batch", .int(next.microBatches.lowerBound)),
                ("micro_batches_per_epoch", .int(plan.microBatchesPerEpoch)),
                ("gradient_accumulation_steps", .int(plan.gradientAccumulationSteps)),
                ("world_size", .int(communicator.size)),
                ("optim", .string(arguments.optim.rawValue)),
                ("optimizer", .string(Self.optimizerKind(optimizer))),
                ("elapsed_seconds", .double(elapsed)),
                ("save_only_model", .bool(arguments.saveOnlyModel)),
            ])
            try CheckpointFiles.writeJSON(.object(position), to: directory.appendingPathComponent(CheckpointFile.dataPosition))
            try state.jsonText.write(to: directory.appendingPathComponent(TrainerState.fileName), atomically: false, encoding: .utf8)
        }
    }

    /// Continues from `checkpoint`: progress and log history, weights, optimizer state, generator
    /// states; throws when the checkpoint does not fit this run's data geometry.
    func restore(from checkpoint: URL, into run: inout RunState) throws {
        try run.state.restoreProgress(from: checkpoint.appendingPathComponent(TrainerState.fileName))
        let positionURL = checkpoint.appendingPathComponent(CheckpointFile.dataPosition)
        let position = try CheckpointFiles.readJSON(positionURL)
        if position["save_only_model"] == .bool(true) {
            throw TrainingError.checkpoint(path: checkpoint.path, problem: "it was saved with save_only_model: true, so it "
                + "holds the weights but not the optimizer state, schedule position and generator states that resuming "
                + "exactly needs; start a fresh run from its weights instead (or resume from a checkpoint of a run without save_only_model)")
        }
        let worldSize = dataParallel.communicator.size
        if case .int(let saved)? = position["world_size"] ?? .int(1), saved != worldSize {
            let launch = saved == 1 ? "resume in one process (without mpirun)" : "resume with `mpirun -np \(saved)`"
            throw TrainingError.checkpoint(path: positionURL.path, problem: "the checkpoint was trained by \(saved) "
                + "process\(saved == 1 ? "" : "es"), this run has \(worldSize); \(launch)")
        }
        for (key, current) in [("micro_batches_per_epoch", plan.microBatchesPerEpoch),
                               ("gradient_accumulation_steps", plan.gradientAccumulationSteps)] {
            guard case .int(let saved)? = position[key] else {
                throw TrainingError.checkpoint(path: positionURL.path, problem: "'\(key)' is missing or not an integer")
            }
            guard saved == current else {
                throw TrainingError.checkpoint(path: positionURL.path, problem: "the checkpoint was trained with \(key) \(saved), "
                    + "this run has \(current); resume with the same dataset, per_device_train_batch_size and gradient_accumulation_steps")
            }
        }
        if case .string(let saved)? = position["optimizer"], saved != Self.optimizerKind(optimizer) {
            let name = position["optim"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? saved
            throw TrainingError.checkpoint(path: positionURL.path, problem: "the checkpoint was trained with optim "
                + "\(name), this run has \(arguments.optim.rawValue), whose state differs; resume with optim: \(name), "
                + "or start a fresh run (another output_dir) to change the optimizer")
        }
        switch position["elapsed_seconds"] {
        case .double(let seconds)?: run.elapsedBefore = seconds
        case .int(let seconds)?: run.elapsedBefore = Double(seconds)
        default: break
        }
        try model.loadTrainedWeights(from: checkpoint)
        try algorithm.loadState(from: checkpoint)
        for parameter in optimizer.parameters {
            if let (index, value) = parameter.tensor.firstNonFiniteElement() {
                throw TrainingError.checkpoint(path: checkpoint.path, problem: "weight '\(parameter.name)' holds \(value) at "
                    + "element \(index); the checkpoint comes from a diverged run: resume from an earlier checkpoint")
            }
        }
        try optimizer.loadState(from: SafeTensorsFile(url: checkpoint.appendingPathComponent(CheckpointFile.optimizer)))
        let statesURL = checkpoint.appendingPathComponent(CheckpointFile.randomStates(rank: dataParallel.communicator.rank))
        let states = try CheckpointFiles.readJSON(statesURL)
        try model.restoreRandomStates(try Self.randomStates(states["model"], file: statesURL))
        try algorithm.restoreRandomStates(try Self.randomStates(states["algorithm"], file: statesURL))
    }

    /// Throws ``TrainingError/nonFiniteState(tensor:value:step:lastCheckpoint:)`` when a trainable
    /// weight or an optimizer state tensor holds NaN or an infinity, so that nothing diverged is saved.
    func requireFiniteState(step: Int, lastCheckpoint: URL?) throws {
        var tensors = optimizer.parameters.map { ($0.name, $0.tensor) }
        for (name, entry) in optimizer.stateEntries() {
            if case .float(let tensor, _) = entry { tensors.append(("optimizer state " + name, tensor)) }
        }
        for (name, tensor) in tensors {
            if let (_, value) = tensor.firstNonFiniteElement() {
                throw TrainingError.nonFiniteState(tensor: name, value: value, step: step, lastCheckpoint: lastCheckpoint?.path)
            }
        }
    }

    /// The optimizer's implementation, recorded in a checkpoint: names of `optim` that mean the same
    /// optimizer (`adamw_8bit`, `paged_adamw_8bit` …) share one.
    static func optimizerKind(_ optimizer: any Optimizer) -> String { String(describing: type(of: optimizer)) }

    private func schedulerJSON(completedSteps: Int) -> JSONValue {
        .object(JSONObject([
            ("lr_scheduler_type", .string(arguments.lrSchedulerType.rawValue)),
            ("lr_scheduler_kwargs", .string(arguments.lrSchedulerKwargs?.configValue.description ?? "{}")),
            ("learning_rate", .double(arguments.learningRate)),
            ("warmup_steps", .int(schedule.warmupSteps)),
            ("total_steps", .int(schedule.totalSteps)),
            ("last_step", .int(completedSteps)),
            ("next_learning_rate", .double(schedule.learningRate(step: completedSteps))),
        ]))
    }

    /// Generator states as JSON strings (a `UInt64` does not fit JSON's integers everywhere).
    private static func json(_ states: [String: UInt64]) -> JSONValue {
        .object(JSONObject(states.keys.sorted().map { ($0, .string(String(states[$0]!))) }))
    }

    private static func randomStates(_ value: JSONValue?, file: URL) throws(TrainingError) -> [String: UInt64] {
        guard case .object(let object)? = value else {
            throw .checkpoint(path: file.path, problem: "expected objects 'model' and 'algorithm' of generator states")
        }
        var states: [String: UInt64] = [:]
        for (name, entry) in object.entries {
            guard case .string(let text) = entry, let state = UInt64(text) else {
                throw .checkpoint(path: file.path, problem: "generator state '\(name)' is not an unsigned integer string")
            }
            states[name] = state
        }
        return states
    }
}
