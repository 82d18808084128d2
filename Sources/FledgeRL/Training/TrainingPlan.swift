/// The step geometry of a run, computed as the HF Trainer computes it: an epoch of `M` micro-batches
/// makes `ceil(M / gradient_accumulation_steps)` optimizer steps (the last one takes the remainder),
/// and the run lasts `max_steps`, or `ceil(num_train_epochs × steps per epoch)` when `max_steps` ≤ 0.
public struct TrainingPlan: Sendable, Equatable {
    /// Micro-batches in one pass over the data.
    public let microBatchesPerEpoch: Int
    /// Micro-batches per optimizer step.
    public let gradientAccumulationSteps: Int
    /// Optimizer steps per pass over the data.
    public let stepsPerEpoch: Int
    /// Optimizer steps in the whole run.
    public let maxSteps: Int
    /// Passes over the data the run makes, rounded up (trainer_state.json's `num_train_epochs`).
    public let epochs: Int

    /// The plan for `arguments` over data of `microBatchesPerEpoch` micro-batches.
    public init(arguments: TrainingArguments, microBatchesPerEpoch: Int) throws(TrainingError) {
        guard microBatchesPerEpoch > 0 else {
            throw .invalidSetting("the training data gives no batches; add rows to the dataset")
        }
        guard arguments.gradientAccumulationSteps > 0 else {
            throw .invalidSetting("gradient_accumulation_steps must be at least 1, got \(arguments.gradientAccumulationSteps)")
        }
        self.microBatchesPerEpoch = microBatchesPerEpoch
        gradientAccumulationSteps = arguments.gradientAccumulationSteps
        stepsPerEpoch = Self.quotientRoundedUp(microBatchesPerEpoch, gradientAccumulationSteps)
        if arguments.maxSteps > 0 {
            maxSteps = arguments.maxSteps
        } else {
            guard arguments.numTrainEpochs > 0, arguments.numTrainEpochs.isFinite else {
                throw .invalidSetting("set max_steps or a positive num_train_epochs (got \(arguments.numTrainEpochs))")
            }
            let steps = (arguments.numTrainEpochs * Double(stepsPerEpoch)).rounded(.up)
            guard let count = Int(exactly: steps) else {
                throw .invalidSetting("num_train_epochs \(arguments.numTrainEpochs) × \(stepsPerEpoch) steps per epoch is "
                    + "too many steps to count; lower num_train_epochs or set max_steps")
            }
            maxSteps = count
        }
        epochs = Self.quotientRoundedUp(maxSteps, stepsPerEpoch)
    }

    /// ⌈a / b⌉ of positive integers, without the overflow of `(a + b − 1) / b` near `Int.max`.
    private static func quotientRoundedUp(_ a: Int, _ b: Int) -> Int {
        a / b + (a % b == 0 ? 0 : 1)
    }

    /// The position of the optimizer step that follows `completedSteps` steps.
    public func position(afterSteps completedSteps: Int) -> StepPosition {
        let epoch = completedSteps / stepsPerEpoch
        let first = (completedSteps % stepsPerEpoch) * gradientAccumulationSteps
        let end = min(first + gradientAccumulationSteps, microBatchesPerEpoch)
        return StepPosition(step: completedSteps, epoch: epoch, microBatches: first..<end)
    }

    /// The fractional epoch once the step at `position` is done (HF: `epoch + (step + 1) / steps_in_epoch`).
    public func epochProgress(after position: StepPosition) -> Double {
        Double(position.epoch) + Double(position.microBatches.upperBound) / Double(microBatchesPerEpoch)
    }

    /// Whether the step at `position` finishes a pass over the data.
    public func endsEpoch(_ position: StepPosition) -> Bool {
        position.microBatches.upperBound == microBatchesPerEpoch
    }
}
