import Foundation
import FledgeLM

/// `trainer_state.json`, with the fields and layout of the HF Trainer's `TrainerState` (sorted keys,
/// two-space indent), so tools that read HF checkpoints read Fledge's.
public struct TrainerState: Sendable, Equatable {
    /// The file name inside a checkpoint.
    public static let fileName = "trainer_state.json"

    /// Optimizer steps completed.
    public var globalStep = 0
    /// Fractional passes over the data completed.
    public var epoch = 0.0
    /// Optimizer steps of the run.
    public var maxSteps: Int
    /// Passes over the data the run makes, rounded up.
    public var numTrainEpochs: Int
    public var loggingSteps: Int
    public var evalSteps: Int
    public var saveSteps: Int
    /// Rows per micro-batch.
    public var trainBatchSize: Int
    /// Input tokens run through the model so far (TRL's `num_tokens`).
    public var numInputTokensSeen = 0
    /// Every logged record so far.
    public var logHistory: [MetricsRecord] = []

    /// A fresh state for a run of `plan` with `arguments`.
    public init(plan: TrainingPlan, arguments: TrainingArguments) {
        maxSteps = plan.maxSteps
        numTrainEpochs = plan.epochs
        loggingSteps = arguments.loggingSteps
        evalSteps = arguments.evalSteps ?? arguments.loggingSteps
        saveSteps = arguments.saveSteps
        trainBatchSize = arguments.perDeviceTrainBatchSize
    }

    /// The JSON text HF writes (`json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"`).
    public var jsonText: String {
        let object = JSONObject([
            ("best_global_step", .null), ("best_metric", .null), ("best_model_checkpoint", .null),
            ("epoch", .double(epoch)), ("eval_steps", .int(evalSteps)), ("global_step", .int(globalStep)),
            ("is_hyper_param_search", .bool(false)), ("is_local_process_zero", .bool(true)),
            ("is_world_process_zero", .bool(true)), ("log_history", .array(logHistory.map(\.json))),
            ("logging_steps", .int(loggingSteps)), ("max_steps", .int(maxSteps)),
            ("num_input_tokens_seen", .int(numInputTokensSeen)), ("num_train_epochs", .int(numTrainEpochs)),
            ("save_steps", .int(saveSteps)), ("stateful_callbacks", .object(JSONObject())), ("total_flos", .double(0)),
            ("train_batch_size", .int(trainBatchSize)), ("trial_name", .null), ("trial_params", .null),
        ])
        return JSONWriter(indent: 2, sortKeys: true).string(.object(object)) + "\n"
    }

    /// Reads the progress fields (`global_step`, `epoch`, `num_input_tokens_seen`, `log_history`) of
    /// a saved state into this one; the run's own settings stay as they are. Throws when a field is
    /// out of range, or the saved step is past this run's `maxSteps`.
    public mutating func restoreProgress(from url: URL) throws(TrainingError) {
        let json = try CheckpointFiles.readJSON(url)
        func integer(_ key: String) throws(TrainingError) -> Int {
            guard case .int(let value)? = json[key] else {
                throw .checkpoint(path: url.path, problem: "'\(key)' is missing or not an integer")
            }
            return value
        }
        let step = try integer("global_step")
        guard step >= 0 else {
            throw .checkpoint(path: url.path, problem: "'global_step' is \(step); a step count is 0 or more, so the file "
                + "is damaged: resume from another checkpoint")
        }
        guard step <= maxSteps else {
            throw .checkpoint(path: url.path, problem: "the checkpoint is at step \(step), past this run's max_steps "
                + "\(maxSteps); set max_steps (or num_train_epochs) above \(step) to train further, or resume an earlier checkpoint")
        }
        globalStep = step
        numInputTokensSeen = try integer("num_input_tokens_seen")
        guard numInputTokensSeen >= 0 else {
            throw .checkpoint(path: url.path, problem: "'num_input_tokens_seen' is \(numInputTokensSeen); it is 0 or more")
        }
        switch json["epoch"] {
        case .double(let value)? where value.isFinite && value >= 0: epoch = value
        case .int(let value)? where value >= 0: epoch = Double(value)
        default: throw .checkpoint(path: url.path, problem: "'epoch' is missing or not a number of 0 or more")
        }
        guard case .array(let entries)? = json["log_history"] else {
            throw .checkpoint(path: url.path, problem: "'log_history' is missing or not a list")
        }
        logHistory = try entries.map { (entry) throws(TrainingError) in try MetricsRecord(json: entry, source: url.path) }
    }
}
