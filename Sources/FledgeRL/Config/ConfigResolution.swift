/// A config on its way to being resolved: the values so far, which fields the user set, and the report.
///
/// Checks read and change the config through key paths; the resolution turns each key path into the
/// field's TRL name, so that every message names the field and its values.
public struct ConfigResolution<Config: TrainerConfig> {
    /// The config as resolved so far.
    public internal(set) var config: Config
    /// What the resolver has said so far.
    public internal(set) var report = ConfigReport()
    /// The preset the defaults came from.
    public let preset: DefaultsPreset
    /// Processes training together (`WORLD_SIZE`, or `--world-size`).
    public let worldSize: Int
    /// Names of the fields the file or the command line set.
    public internal(set) var explicitFields: Set<String> = []
    /// Names of the fields filled in from others, as TRL does (`steps_per_generation`, `epsilon_high`).
    public internal(set) var derivedFields: Set<String> = []

    init(config: Config, preset: DefaultsPreset, worldSize: Int) {
        self.config = config
        self.preset = preset
        self.worldSize = worldSize
    }

    /// Whether the file or the command line set the field at `keyPath`.
    public func isExplicit(_ keyPath: PartialKeyPath<Config>) -> Bool {
        explicitFields.contains(Config.field(at: keyPath).name)
    }

    /// Sets the field at `keyPath` to `value` and reports the change with `reason`, if it changes.
    mutating func change<Value: ConfigRepresentable & Equatable>(
        _ keyPath: WritableKeyPath<Config, Value>, to value: Value, _ reason: String
    ) {
        let old = config[keyPath: keyPath]
        guard old != value else { return }
        config[keyPath: keyPath] = value
        report.add(.change, Config.field(at: keyPath).name, old.configValue, reason, newValue: value.configValue)
    }

    /// Sets a derived value (one TRL itself fills in, such as `steps_per_generation`) without a message.
    mutating func derive<Value: ConfigRepresentable>(_ keyPath: WritableKeyPath<Config, Value>, _ value: Value) {
        config[keyPath: keyPath] = value
        derivedFields.insert(Config.field(at: keyPath).name)
    }

    mutating func warn(_ keyPath: PartialKeyPath<Config>, _ text: String) { add(.warning, keyPath, text) }
    mutating func note(_ keyPath: PartialKeyPath<Config>, _ text: String) { add(.note, keyPath, text) }
    mutating func fail(_ keyPath: PartialKeyPath<Config>, _ text: String) { add(.error, keyPath, text) }

    private mutating func add(_ kind: ConfigMessage.Kind, _ keyPath: PartialKeyPath<Config>, _ text: String) {
        let field = Config.field(at: keyPath)
        report.add(kind, field.name, field.read(config), text)
    }
}
