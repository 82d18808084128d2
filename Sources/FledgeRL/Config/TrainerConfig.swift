/// A trainer's config: the run fields, the shared training arguments, and the trainer's own fields.
///
/// `init()` gives TRL's current defaults for the trainer; ``applyUnslothDefaults()`` turns them into
/// Unsloth's (``init(defaults:)`` also applies the run fields' Unsloth defaults). ``checks`` are the rules that run, in order, after the file and flags have been applied.
public protocol TrainerConfig: ConfigFieldTable, Equatable, Sendable {
    /// Which trainer this config is for.
    static var trainer: TrainerKind { get }
    /// Every field of the config, by TRL name: ``sharedFields(_:_:)`` first, then the trainer's own.
    static var fields: [ConfigField<Self>] { get }
    /// The rules for this trainer, run in order after ``ConfigCheck/shared``.
    static var checks: [ConfigCheck<Self>] { get }
    /// The fields of nested arguments once more, reached through protocol requirements instead of
    /// stored properties. A key path formed in generic code (`\.training.seed` where `Config:
    /// TrainerConfig`) differs from the one formed on the concrete type, so lookups try both.
    static var keyPathAliases: [ConfigField<Self>] { get }

    /// The run fields (model, dataset, LoRA, rewards).
    var run: RunArguments { get set }
    /// The shared training arguments.
    var training: TrainingArguments { get set }

    /// TRL's current defaults.
    init()
    /// Replaces TRL's defaults with Unsloth's.
    mutating func applyUnslothDefaults()
}

extension TrainerConfig {
    /// The run fields and training arguments, reached through the concrete type's stored properties
    /// (pass `\.run` and `\.training` from the concrete type).
    public static func sharedFields(
        _ run: WritableKeyPath<Self, RunArguments>, _ training: WritableKeyPath<Self, TrainingArguments>
    ) -> [ConfigField<Self>] {
        RunArguments.fields.lifted(through: run) + TrainingArguments.fields.lifted(through: training)
    }

    /// The shared fields reached through the protocol requirements, as generic checks reach them.
    public static var keyPathAliases: [ConfigField<Self>] { sharedFields(\Self.run, \Self.training) }

    /// The field stored at `keyPath`; every property a check touches is in the field table.
    static func field(at keyPath: PartialKeyPath<Self>) -> ConfigField<Self> {
        guard let field = (fields + keyPathAliases).first(where: { $0.keyPath == keyPath }) else {
            preconditionFailure("\(keyPath) of \(Self.self) is not in its field table")
        }
        return field
    }

    /// The config with a preset's defaults.
    public init(defaults preset: DefaultsPreset) {
        self.init()
        if preset == .unsloth {
            run.applyUnslothDefaults()
            applyUnslothDefaults()
        }
    }

    /// The config's fields and their values, in field-table order.
    public var entries: [ConfigEntry] {
        Self.fields.map { ConfigEntry(key: $0.name, value: $0.read(self)) }
    }
}

/// One rule over a resolved config: it may change fields and add messages to the report.
public struct ConfigCheck<Config: TrainerConfig> {
    let run: (inout ConfigResolution<Config>) -> Void

    /// A check that runs `run` on the resolution.
    public init(_ run: @escaping (inout ConfigResolution<Config>) -> Void) {
        self.run = run
    }
}
