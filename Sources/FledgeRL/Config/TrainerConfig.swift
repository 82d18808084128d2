/// A trainer's config: the run fields, the shared training arguments, and the trainer's own fields.
///
/// `init()` gives TRL's current defaults for the trainer; ``applyUnslothDefaults()`` turns them into
/// Unsloth's. ``checks`` are the rules that run, in order, after the file and flags have been applied.
public protocol TrainerConfig: Equatable, Sendable {
    /// Which trainer this config is for.
    static var trainer: TrainerKind { get }
    /// The trainer's own fields (the shared ones come from ``RunArguments`` and ``TrainingArguments``).
    static var ownFields: [ConfigField<Self>] { get }
    /// The rules for this trainer, run in order.
    static var checks: [ConfigCheck<Self>] { get }

    var run: RunArguments { get set }
    var training: TrainingArguments { get set }

    /// TRL's current defaults.
    init()
    /// Replaces TRL's defaults with Unsloth's.
    mutating func applyUnslothDefaults()
}

extension TrainerConfig {
    /// Every field of the config, by TRL name: run fields, training arguments, then the trainer's own.
    public static var fields: [ConfigField<Self>] {
        RunArguments.fields.lifted(through: \Self.run)
            + TrainingArguments.fields.lifted(through: \Self.training)
            + ownFields
    }

    /// The field stored at `keyPath`; every property a check touches is in the field table.
    static func field(at keyPath: PartialKeyPath<Self>) -> ConfigField<Self> {
        guard let field = fields.first(where: { $0.keyPath == keyPath }) else {
            preconditionFailure("\(keyPath) of \(Self.self) is not in its field table")
        }
        return field
    }

    /// The config with a preset's defaults.
    public init(defaults preset: DefaultsPreset) {
        self.init()
        if preset == .unsloth { applyUnslothDefaults() }
    }

    /// The config's fields and their values, in field-table order.
    public var entries: [ConfigEntry] {
        Self.fields.map { ConfigEntry(key: $0.name, value: $0.read(self)) }
    }
}

/// One rule over a resolved config: it may change fields and add messages to the report.
public struct ConfigCheck<Config: TrainerConfig> {
    let run: (inout ConfigResolution<Config>) -> Void

    public init(_ run: @escaping (inout ConfigResolution<Config>) -> Void) {
        self.run = run
    }
}
