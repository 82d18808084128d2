/// The order the training rows of SFT, DPO and KTO are visited in (the HF Trainer's
/// `train_sampling_strategy`). GRPO, RLOO and PPO sample prompts their own way (TRL's `RepeatSampler`
/// with `shuffle_dataset`, PPO's shuffled loader), so it changes nothing there, as in TRL.
public enum TrainSamplingStrategy: String, ConfigChoice, Sendable {
    /// Shuffled every epoch from `data_seed` (else `seed`).
    case random
    /// In file order, every epoch.
    case sequential
    /// transformers' `LengthGroupedSampler`: shuffled, then cut into mega-batches of 50 optimizer
    /// batches (fewer for small datasets) each sorted by length, longest first, with the longest row of
    /// all moved to the very first batch.
    case groupByLength = "group_by_length"
    /// transformers' `BatchRebalanceSampler` (micro-batches of varying sizes balanced by padded cost);
    /// refused: Fledge's micro-batches have a fixed size.
    case batchRebalance = "batch_rebalance"
}
