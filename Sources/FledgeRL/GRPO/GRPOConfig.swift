/// TRL's `GRPOConfig`: Group Relative Policy Optimization and its loss variants.
public struct GRPOConfig: GroupSamplingConfig {
    public static let trainer = TrainerKind.grpo

    public var run = RunArguments()
    public var training = TrainingArguments()
    public var generation = GenerationArguments()
    /// TR-DPO's reference-model syncing (`sync_ref_model` …).
    public var referenceSync = ReferenceSyncArguments()
    /// How per-token losses are aggregated (see the GRPO trainer).
    public var lossType = GRPOLossType.dapo
    /// How advantages are divided by the reward spread.
    public var scaleRewards = ScaleRewards.group
    /// How several reward functions' scores become one advantage: sum, then normalise within groups
    /// (`sum_then_normalize`), or normalise each function within groups, sum, then normalise over the
    /// batch (`normalize_then_sum`, GDPO; `scale_rewards` does not apply to it).
    public var multiObjectiveAggregation = MultiObjectiveAggregation.sumThenNormalize
    /// `token` ratios (GRPO) or one `sequence` ratio per completion (GSPO).
    public var importanceSamplingLevel = ImportanceSamplingLevel.token
    /// Use the importance-weighted (unbiased under off-policy data) KL estimate.
    public var useBiasCorrectionKL = true
    /// Cap on the unclipped ratio (two-sided GRPO, INTELLECT-2); `null` disables it.
    public var delta: Double? = nil
    /// Keep in the policy loss only this top fraction of tokens by entropy (1 keeps every token).
    public var topEntropyQuantile = 1.0
    /// The weight of an entropy bonus: the loss minus this times the mean entropy of the tokens in the
    /// policy term, for exploration (the same meaning for every loss type).
    public var entropyCoef = 0.0
    /// Adaptive entropy control (Skywork-OR1): after each optimizer step `entropy_coef` rises by
    /// `entropy_coef_delta` when the step's mean entropy was at or below `entropy_target` and falls by it
    /// otherwise, within [`entropy_coef_min`, `entropy_coef_max`]; the bonus applies only while the last
    /// step's entropy was at or below the target. `entropy_coef` is the starting value.
    public var useAdaptiveEntropy = false
    /// The lowest coefficient adaptive entropy control reaches.
    public var entropyCoefMin = 0.0
    /// The highest coefficient adaptive entropy control reaches.
    public var entropyCoefMax = 1.0
    /// How much adaptive entropy control moves the coefficient each optimizer step.
    public var entropyCoefDelta = 0.005
    /// The mean per-token entropy (nats) adaptive entropy control aims for, measured over the tokens the
    /// policy term keeps.
    public var entropyTarget = 0.2
    /// Leave a negative-advantage completion out of the policy loss when its mean per-token KL to the
    /// policy that sampled it exceeds this (DeepSeek-V3.2's off-policy sequence mask); `null` keeps all.
    public var offPolicyMaskThreshold: Double? = nil
    /// SAPO gate temperature for tokens with a non-positive advantage.
    public var sapoTemperatureNeg = 1.05
    /// SAPO gate temperature for tokens with a positive advantage.
    public var sapoTemperaturePos = 1.0
    /// VESPO's exponent k for non-negative advantages.
    public var vespoKPos = 2.0
    /// VESPO's rate λ for non-negative advantages.
    public var vespoLambdaPos = 3.0
    /// VESPO's exponent k for negative advantages.
    public var vespoKNeg = 3.0
    /// VESPO's rate λ for negative advantages.
    public var vespoLambdaNeg = 2.0
    /// Tools and an environment (`tools`, `environment_command`, `max_tool_calling_iterations`, …): multi-turn
    /// episodes.
    public var agent = ToolArguments()

    /// TRL's current defaults.
    public init() {
        training.learningRate = 1e-6
    }

    /// Unsloth's defaults: the shared ones plus GRPO's own.
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
        generation.numGenerations = 8
        generation.maxCompletionLength = 256
        generation.temperature = 1.0
        generation.topK = nil
        generation.beta = 0.001
        generation.epsilon = 0.2
        generation.epsilonHigh = nil
        generation.maskTruncatedCompletions = false
        generation.numIterations = 1
        lossType = .bnpo
        scaleRewards = .group
        importanceSamplingLevel = .token
    }

    public static var fields: [ConfigField<GRPOConfig>] {
        sharedFields(\.run, \.training) + GenerationArguments.fields.lifted(through: \.generation)
            + ReferenceSyncArguments.fields.lifted(through: \.referenceSync) + ToolArguments.fields.lifted(through: \.agent) + [
            ConfigField("loss_type", \.lossType),
            ConfigField("scale_rewards", \.scaleRewards),
            ConfigField("multi_objective_aggregation", \.multiObjectiveAggregation),
            ConfigField("importance_sampling_level", \.importanceSamplingLevel),
            ConfigField("use_bias_correction_kl", \.useBiasCorrectionKL),
            ConfigField("delta", \.delta, .positive),
            ConfigField("top_entropy_quantile", \.topEntropyQuantile,
                        .fraction.because("the share of highest-entropy tokens kept in the loss; 1 keeps all")),
            ConfigField("off_policy_mask_threshold", \.offPolicyMaskThreshold, .ordinaryMagnitude),
            ConfigField("entropy_coef", \.entropyCoef, .ordinaryMagnitude),
            ConfigField("use_adaptive_entropy", \.useAdaptiveEntropy),
            ConfigField("entropy_coef_min", \.entropyCoefMin, .ordinaryMagnitude),
            ConfigField("entropy_coef_max", \.entropyCoefMax, .ordinaryMagnitude),
            ConfigField("entropy_coef_delta", \.entropyCoefDelta, .atLeast(0).because("the step the coefficient moves by")),
            ConfigField("entropy_target", \.entropyTarget, .atLeast(0).because("a mean entropy in nats")),
            ConfigField("sapo_temperature_neg", \.sapoTemperatureNeg, .positive.because("the SAPO gate divides by it")),
            ConfigField("sapo_temperature_pos", \.sapoTemperaturePos, .positive.because("the SAPO gate divides by it")),
            ConfigField("vespo_k_pos", \.vespoKPos, .atLeast(0)),
            ConfigField("vespo_lambda_pos", \.vespoLambdaPos, .atLeast(0)),
            ConfigField("vespo_k_neg", \.vespoKNeg, .atLeast(0)),
            ConfigField("vespo_lambda_neg", \.vespoLambdaNeg, .atLeast(0)),
        ]
    }

    public static var checks: [ConfigCheck<GRPOConfig>] {
        [
            .recommendedTemperature(\.generation.temperature), .generationKeywordArguments, .autoFindBatchSize,
            .referenceSync(\.referenceSync, beta: \.generation.beta), .trainSamplingStrategy(groupsByLength: false, ignored: true),
            .batchGeometry(unslothFix: true), .lossTypeDefaultsForDrGRPO, .scaleRewardsWithNormalizeThenSum, .dapo, .epsilonHigh,
            .sequenceLevelWithTokenSum, .importanceLevelForLUSPOAndVESPO,
            .cispoCap, .completionLeavesRoomForPrompt(\.generation.maxCompletionLength),
        ]
    }
}

/// GRPO's loss variants (TRL's names): how the per-token loss is formed and aggregated.
public enum GRPOLossType: String, ConfigChoice, Sendable {
    /// PPO clipping; mean over sequences of each sequence's token mean.
    case grpo
    /// PPO clipping; token mean over the micro-batch.
    case bnpo
    /// PPO clipping; token sum over (rows × `max_completion_length`).
    case drGRPO = "dr_grpo"
    /// PPO clipping; token sum over the active tokens of the whole generation batch.
    case dapo
    /// A capped, detached importance weight times the log-probability; aggregated as `dapo`.
    case cispo
    /// A smooth sigmoid gate instead of clipping; aggregated as `grpo`.
    case sapo
    /// PPO clipping; each sequence's token sum, averaged over sequences (length-weighted GSPO).
    case luspo
    /// A detached Gamma-shaped sequence weight times the log-probability; aggregated as `dapo`.
    case vespo

    /// Whether the loss's normaliser already spans the accumulation window (TRL's token-sum losses),
    /// so that it is not divided by the accumulation steps again.
    var normalizesItself: Bool { [.dapo, .cispo, .vespo].contains(self) }

    /// Whether TRL warns that sequence-level ratios with this loss weight sequences by their length.
    public var sumsTokens: Bool { [.bnpo, .drGRPO, .dapo, .cispo].contains(self) }
}

/// How GRPO combines several reward functions into advantages (TRL's names).
public enum MultiObjectiveAggregation: String, ConfigChoice, Sendable {
    /// The weighted sum of the functions' rewards, normalised within each group (`scale_rewards`).
    case sumThenNormalize = "sum_then_normalize"
    /// Each function's rewards normalised within each group, weighted and summed, then normalised over
    /// the whole batch (GDPO).
    case normalizeThenSum = "normalize_then_sum"
}

/// How GRPO scales advantages; TRL's old booleans read as `true` → `group`, `false` → `none`.
public enum ScaleRewards: String, ConfigChoice, Sendable {
    case group, batch, none

    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        switch configValue {
        case .bool(let on): self = on ? .group : .none
        case .string(let text) where ["true", "false"].contains(text.lowercased()):
            self = text.lowercased() == "true" ? .group : .none
        default:
            guard case .string(let text) = configValue, let match = Self(rawValue: text.lowercased()) else {
                throw ConfigTypeMismatch(expected: "one of group, batch, none (or true/false)")
            }
            self = match
        }
    }
}

/// Importance-sampling ratio per token (GRPO) or per sequence (GSPO).
public enum ImportanceSamplingLevel: String, ConfigChoice, Sendable {
    case token, sequence
}
