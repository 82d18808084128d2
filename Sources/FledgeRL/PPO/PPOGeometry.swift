/// How PPO's rollouts map onto optimizer steps and micro-batches.
///
/// A rollout is `per_device_train_batch_size × gradient_accumulation_steps` prompts (TRL 1.12's
/// `local_batch_size`) with one response each. Each of its `num_ppo_epochs` epochs shuffles the
/// rollout and splits it into `num_mini_batches` mini-batches; a mini-batch is one optimizer step over
/// micro-batches of `per_device_train_batch_size` rows. (TRL 1.12 steps on Accelerate's accumulation
/// boundary, every `gradient_accumulation_steps` micro-batches, so there its mini-batches beyond the
/// first do not step on their own; Fledge steps once per mini-batch, as PPO and TRL before 1.12 do.)
public struct PPOGeometry: Equatable, Sendable {
    public let rolloutSize: Int
    public let miniBatchSize: Int
    public let microBatchSize: Int
    public let ppoEpochs: Int
    public let miniBatches: Int
    /// Rollouts per pass over the prompts (the dataloader drops the last incomplete one).
    public let rolloutsPerEpoch: Int

    /// The geometry of `config` over `prompts` prompts; throws a message naming the fields to change.
    public init(config: PPOConfig, prompts: Int) throws(TrainingError) {
        let training = config.training
        rolloutSize = training.perDeviceTrainBatchSize * training.gradientAccumulationSteps
        microBatchSize = training.perDeviceTrainBatchSize
        ppoEpochs = config.numPPOEpochs
        miniBatches = config.numMiniBatches
        guard rolloutSize > 0, ppoEpochs > 0, miniBatches > 0, rolloutSize % miniBatches == 0 else {
            throw .invalidSetting("per_device_train_batch_size × gradient_accumulation_steps (\(rolloutSize)) must be a positive "
                + "multiple of num_mini_batches (\(miniBatches)), and num_ppo_epochs (\(ppoEpochs)) positive")
        }
        miniBatchSize = rolloutSize / miniBatches
        rolloutsPerEpoch = prompts / rolloutSize
        guard rolloutsPerEpoch > 0 else {
            throw .invalidSetting("the dataset has \(prompts) prompts, fewer than one rollout of per_device_train_batch_size × "
                + "gradient_accumulation_steps = \(rolloutSize); add prompts or lower them")
        }
    }

    /// Micro-batches of one mini-batch (one optimizer step).
    public var microBatchesPerStep: Int { (miniBatchSize + microBatchSize - 1) / microBatchSize }
    /// Optimizer steps per rollout.
    public var stepsPerRollout: Int { ppoEpochs * miniBatches }
    /// Micro-batches per rollout.
    public var microBatchesPerRollout: Int { stepsPerRollout * microBatchesPerStep }

    /// Where micro-batch `index` of a pass over the prompts falls: its rollout, PPO epoch, mini-batch
    /// and the range of the mini-batch's rows it takes.
    func locate(_ index: Int) -> (rollout: Int, ppoEpoch: Int, miniBatch: Int, rows: Range<Int>) {
        let withinRollout = index % microBatchesPerRollout, step = withinRollout / microBatchesPerStep
        let micro = withinRollout % microBatchesPerStep
        return (index / microBatchesPerRollout, step / miniBatches, step % miniBatches,
                micro * microBatchSize..<Swift.min((micro + 1) * microBatchSize, miniBatchSize))
    }
}
