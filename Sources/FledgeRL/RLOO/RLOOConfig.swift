/// TRL's `RLOOConfig`: REINFORCE Leave-One-Out, sampling groups like GRPO.
public struct RLOOConfig: GroupSamplingConfig {
    public static let trainer = TrainerKind.rloo

    public var run = RunArguments()
    public var training = TrainingArguments()
    public var generation = GenerationArguments()
    /// TR-DPO's reference-model syncing (`sync_ref_model` …).
    public var referenceSync = ReferenceSyncArguments()
    /// Normalise advantages over the batch.
    public var normalizeAdvantages = false
    /// Clamp rewards to `[min, max]`; `null` means no clamp.
    public var rewardClipRange: [Double]? = nil
    /// Tools and an environment (`tools`, `environment_command`, `max_tool_calling_iterations`, …): multi-turn
    /// episodes, their tool-result tokens out of the loss (a Fledge departure: TRL's `RLOOTrainer` has no tools).
    public var agent = ToolArguments()

    /// TRL's current defaults.
    public init() {
        training.learningRate = 1e-6
        generation.numGenerations = 2
        generation.beta = 0.05
    }

    /// Unsloth's shared defaults (Unsloth adds nothing RLOO-specific).
    public mutating func applyUnslothDefaults() {
        training.applyUnslothDefaults()
    }

    public static var fields: [ConfigField<RLOOConfig>] {
        sharedFields(\.run, \.training) + GenerationArguments.fields.lifted(through: \.generation)
            + ReferenceSyncArguments.fields.lifted(through: \.referenceSync) + ToolArguments.fields.lifted(through: \.agent) + [
            ConfigField("normalize_advantages", \.normalizeAdvantages),
            ConfigField("reward_clip_range", \.rewardClipRange, .ordinaryMagnitude),
        ]
    }

    public static var checks: [ConfigCheck<RLOOConfig>] {
        [
            .recommendedTemperature(\.generation.temperature), .generationKeywordArguments, .autoFindBatchSize,
            .referenceSync(\.referenceSync, beta: \.generation.beta), .trainSamplingStrategy(groupsByLength: false, ignored: true),
            .batchGeometry(unslothFix: false), .epsilonHigh, .completionLeavesRoomForPrompt(\.generation.maxCompletionLength),
            .rewardClipRange,
        ]
    }
}
