/// A config whose trainer samples groups of completions (GRPO, RLOO).
public protocol GroupSamplingConfig: TrainerConfig {
    /// The sampling and batching fields.
    var generation: GenerationArguments { get set }
}

extension GroupSamplingConfig {
    /// The generation fields reached through the protocol requirement, as the shared checks reach them.
    public static var keyPathAliases: [ConfigField<Self>] {
        sharedFields(\Self.run, \Self.training) + GenerationArguments.fields.lifted(through: \Self.generation)
    }
}
