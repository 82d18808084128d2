extension ConfigCheck where Config == PPOConfig {
    /// Check 7 (PPO): TRL's stop-token and mini-batch rules.
    ///
    /// The rollout batch per process is `per_device_train_batch_size × gradient_accumulation_steps`; it and
    /// the global batch (× `world_size`) must split evenly into `num_mini_batches`.
    static var ppo: ConfigCheck {
        ConfigCheck { resolution in
            let config = resolution.config
            if config.stopToken != nil, config.stopTokenID != nil {
                resolution.fail(\.stopTokenID, "set either stop_token or stop_token_id, not both")
            }
            if let penalty = config.missingEOSPenalty, penalty < 0 {
                resolution.warn(\.missingEOSPenalty, "the penalty is subtracted from the score; give a positive value")
            }
            let local = config.training.perDeviceTrainBatchSize * config.training.gradientAccumulationSteps
            let global = local * resolution.worldSize
            if global % config.numMiniBatches != 0 {
                resolution.fail(
                    \.numMiniBatches,
                    "the batch (per_device_train_batch_size × gradient_accumulation_steps × world_size = "
                        + "\(global)) must be a multiple of num_mini_batches")
            } else if local % config.numMiniBatches != 0 {
                resolution.fail(
                    \.numMiniBatches,
                    "the batch per process (per_device_train_batch_size × gradient_accumulation_steps = "
                        + "\(local)) must be a multiple of num_mini_batches")
            } else if config.whitenRewards, local / config.numMiniBatches < 8 {
                resolution.fail(
                    \.whitenRewards,
                    "whitening needs at least 8 rows per mini-batch, but there are \(local / config.numMiniBatches)")
            }
        }
    }
}
