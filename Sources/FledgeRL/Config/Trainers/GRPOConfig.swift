/// TRL's `GRPOConfig`: Group Relative Policy Optimization and its loss variants.
public struct GRPOConfig: GroupSamplingConfig {
    public static let trainer = TrainerKind.grpo

    public var run = RunArguments()
    public var training = TrainingArguments()
    public var generation = GenerationArguments()
    /// How per-token losses are aggregated (see the GRPO trainer).
    public var lossType = GRPOLossType.dapo
    /// How advantages are divided by the reward spread.
    public var scaleRewards = ScaleRewards.group
    /// `token` ratios (GRPO) or one `sequence` ratio per completion (GSPO).
    public var importanceSamplingLevel = ImportanceSamplingLevel.token
    /// Use the importance-weighted (unbiased under off-policy data) KL estimate.
    public var useBiasCorrectionKL = true

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
        sharedFields(\.run, \.training) + GenerationArguments.fields.lifted(through: \.generation) + [
            ConfigField("loss_type", \.lossType),
            ConfigField("scale_rewards", \.scaleRewards),
            ConfigField("importance_sampling_level", \.importanceSamplingLevel),
            ConfigField("use_bias_correction_kl", \.useBiasCorrectionKL),
        ]
    }

    public static var checks: [ConfigCheck<GRPOConfig>] {
        [
            .temperature(\.generation.temperature), .autoFindBatchSize,
            .batchGeometry(unslothFix: true), .lossTypeDefaultsForDrGRPO, .dapo, .epsilonHigh,
            .sequenceLevelWithTokenSum,
        ]
    }
}

/// GRPO loss aggregations Fledge implements (TRL's names).
public enum GRPOLossType: String, ConfigChoice, Sendable {
    case grpo, bnpo
    case drGRPO = "dr_grpo"
    case dapo

    /// Whether the loss sums per-token terms over the batch (so a sequence weighs by its length).
    public var sumsTokens: Bool { self != .grpo }
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
