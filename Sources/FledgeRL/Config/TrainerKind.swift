/// The trainers a config can be for; each has its own TRL config class and defaults.
public enum TrainerKind: String, ConfigChoice, Sendable {
    case grpo, dpo, ppo, sft, rloo, reward

    /// The TRL config class the trainer's fields come from.
    public var trlConfigName: String {
        switch self {
        case .grpo: "GRPOConfig"
        case .dpo: "DPOConfig"
        case .ppo: "PPOConfig"
        case .sft: "SFTConfig"
        case .rloo: "RLOOConfig"
        case .reward: "RewardConfig"
        }
    }

    /// Whether the trainer does reinforcement learning (preference or reward driven) rather than SFT or
    /// reward modelling.
    public var isReinforcementLearning: Bool { self != .sft && self != .reward }
}

/// The set of defaults a config starts from, chosen with `defaults:` in the file or `--defaults`.
public enum DefaultsPreset: String, ConfigChoice, Sendable {
    /// Unsloth's tested defaults on top of TRL's (Fledge's default).
    case unsloth
    /// TRL's current defaults, unchanged.
    case trl
}
