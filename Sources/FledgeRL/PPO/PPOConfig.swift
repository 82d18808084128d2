/// TRL's `PPOConfig` (last in `trl.experimental.ppo`, TRL 1.12): PPO with a value head and GAE.
public struct PPOConfig: TrainerConfig {
    public static let trainer = TrainerKind.ppo

    public var run = RunArguments()
    public var training = TrainingArguments()
    /// A sequence-classification reward model directory sharing the policy's tokenizer: it scores the
    /// response token ids at the last token and initialises the value model, as TRL's PPO script does;
    /// `null` means the rewards of `reward_funcs`/`reward_command` and a value model made from the policy.
    /// TRL's default is a Hub model name, kept under `defaults: trl` (Fledge reads local directories
    /// only, so name one or set `null`); the Unsloth preset starts from `null`.
    public var rewardModelPath: String? = "EleutherAI/pythia-160m"
    /// Optimisation epochs over each rollout batch.
    public var numPPOEpochs = 4
    /// Mini-batches each rollout batch is split into.
    public var numMiniBatches = 1
    /// Episodes to train on; `null` means `num_train_epochs × dataset size`.
    public var totalEpisodes: Int? = nil
    /// Rows per no-grad forward pass during rollouts.
    public var localRolloutForwardBatchSize = 64
    /// Longest response, in tokens.
    public var responseLength = 53
    /// `eos` stops responses at the tokenizer's EOS; exclusive with `stop_token_id`.
    public var stopToken: PPOStopToken? = nil
    /// A token id that stops responses; exclusive with `stop_token`.
    public var stopTokenID: Int? = nil
    /// Sampling temperature of rollouts.
    public var temperature = 0.7
    /// Subtracted from the score of a response without EOS.
    public var missingEOSPenalty: Double? = nil
    /// Whiten rewards over each mini-batch.
    public var whitenRewards = false
    /// Per-token KL penalty coefficient.
    public var klCoef = 0.05
    /// The per-token KL estimator.
    public var klEstimator = KLEstimator.k1
    /// Policy ratio clip range.
    public var cliprange = 0.2
    /// Value loss coefficient.
    public var vfCoef = 0.1
    /// Value clip range.
    public var cliprangeValue = 0.2
    /// Discount factor γ.
    public var gamma = 1.0
    /// GAE λ.
    public var lam = 0.95

    /// TRL's defaults (TRL 1.12, the last release with `PPOConfig`).
    public init() {
        training.learningRate = 3e-6
    }

    /// Unsloth's shared defaults, and no reward model (TRL's default names a Hub model).
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
        rewardModelPath = nil
    }

    public static var fields: [ConfigField<PPOConfig>] {
        sharedFields(\.run, \.training) + [
            ConfigField("reward_model_path", \.rewardModelPath),
            ConfigField("num_ppo_epochs", \.numPPOEpochs, .count),
            ConfigField("num_mini_batches", \.numMiniBatches, .count),
            ConfigField("total_episodes", \.totalEpisodes, .closed(1, ConfigRange.stepLimit)),
            ConfigField("local_rollout_forward_batch_size", \.localRolloutForwardBatchSize, .count),
            ConfigField("response_length", \.responseLength, .tokens),
            ConfigField("stop_token", \.stopToken),
            ConfigField("stop_token_id", \.stopTokenID, .closed(0, ConfigRange.tokenLimit)),
            ConfigField("temperature", \.temperature, .samplingTemperature),
            ConfigField("missing_eos_penalty", \.missingEOSPenalty, .ordinaryMagnitude),
            ConfigField("whiten_rewards", \.whitenRewards),
            ConfigField("kl_coef", \.klCoef, .atLeast(0)),
            ConfigField("kl_estimator", \.klEstimator),
            ConfigField("cliprange", \.cliprange, .fraction),
            ConfigField("vf_coef", \.vfCoef, .atLeast(0)),
            ConfigField("cliprange_value", \.cliprangeValue, .atLeast(0)),
            ConfigField("gamma", \.gamma, .fraction),
            ConfigField("lam", \.lam, .fraction),
        ]
    }

    public static var checks: [ConfigCheck<PPOConfig>] {
        [.recommendedTemperature(\.temperature), .ppo, .completionLeavesRoomForPrompt(\.responseLength),
         .trainSamplingStrategy(groupsByLength: false, ignored: true)]
    }
}

/// PPO's named stop token.
public enum PPOStopToken: String, ConfigChoice, Sendable {
    case eos
}

/// KL estimators of PPO (Schulman's k1 and k3).
public enum KLEstimator: String, ConfigChoice, Sendable {
    case k1, k3
}
