import Foundation

/// What to resolve a config with, besides the file: the flags of `fledge config check` and of the
/// training commands.
public struct ConfigOptions: Sendable {
    /// The trainer; `nil` means the file's `trainer:` field, else GRPO.
    public var trainer: TrainerKind?
    /// The defaults; `nil` means the file's `defaults:` field, else Unsloth's.
    public var preset: DefaultsPreset?
    /// Processes training together; `nil` means the `WORLD_SIZE` environment variable, else 1.
    public var worldSize: Int?
    /// Field overrides from the command line, applied after the file.
    public var overrides: ConfigDocument

    public init(trainer: TrainerKind? = nil, preset: DefaultsPreset? = nil, worldSize: Int? = nil,
                overrides: ConfigDocument = ConfigDocument(source: "command line", entries: [])) {
        self.trainer = trainer
        self.preset = preset
        self.worldSize = worldSize
        self.overrides = overrides
    }
}

/// A resolved config of any trainer, for code that only shows or saves it.
public protocol ResolvedConfig {
    /// The trainer the config is for.
    var trainer: TrainerKind { get }
    /// The defaults it started from.
    var preset: DefaultsPreset { get }
    /// Processes training together.
    var worldSize: Int { get }
    /// The effective config: every field and its value, derived ones included.
    var entries: [ConfigEntry] { get }
    /// Fields whose values were derived from others (written to `config.resolved.yaml` as comments).
    var derivedFields: Set<String> { get }
    /// What the resolver changed, warned about, noted and rejected.
    var report: ConfigReport { get }
}

extension ConfigResolution: ResolvedConfig {
    public var trainer: TrainerKind { Config.trainer }
    public var entries: [ConfigEntry] { config.entries }
}

/// Turns a config file and flags into a checked config: defaults, then the file, then the flags, then
/// the checks.
public enum ConfigResolver {
    /// The fields Fledge itself adds to a TRL config file.
    static let presetKey = "defaults"
    static let trainerKey = "trainer"

    /// Resolves `document` for the trainer named by the options or the file (GRPO if neither names one).
    public static func resolve(_ document: ConfigDocument, options: ConfigOptions = ConfigOptions()) -> any ResolvedConfig {
        var trainer = options.trainer ?? .grpo
        if options.trainer == nil, let named = document.entries.last(where: { $0.key == trainerKey }),
           let kind = try? TrainerKind(configValue: named.value) {
            trainer = kind
        }
        return switch trainer {
        case .grpo: resolve(GRPOConfig.self, document, options: options)
        case .dpo: resolve(DPOConfig.self, document, options: options)
        case .ppo: resolve(PPOConfig.self, document, options: options)
        case .sft: resolve(SFTConfig.self, document, options: options)
        case .rloo: resolve(RLOOConfig.self, document, options: options)
        case .reward: resolve(RewardConfig.self, document, options: options)
        case .kto: resolve(KTOConfig.self, document, options: options)
        case .distill: resolve(DistillationConfig.self, document, options: options)
        }
    }

    /// Resolves `document` as a config of type `Config`.
    public static func resolve<Config: TrainerConfig>(
        _ type: Config.Type, _ document: ConfigDocument, options: ConfigOptions = ConfigOptions()
    ) -> ConfigResolution<Config> {
        let entries = document.entries + options.overrides.entries
        var preset = options.preset ?? .unsloth
        var presetError: ConfigMessage?
        if options.preset == nil, let named = entries.last(where: { $0.key == presetKey }) {
            do {
                preset = try DefaultsPreset(configValue: named.value)
            } catch {
                presetError = ConfigMessage(
                    kind: .error, field: presetKey, value: named.value, newValue: nil, text: "expected " + error.expected)
            }
        }
        let environment = ProcessInfo.processInfo.environment["WORLD_SIZE"]
        let worldSize = options.worldSize ?? environment.flatMap { Int($0) } ?? 1
        let worldSizeIsValid = ConfigRange.count.contains(Double(worldSize))
            && (options.worldSize != nil || environment == nil || Int(environment!) != nil)
        var resolution = ConfigResolution(
            config: Config(defaults: preset), preset: preset, worldSize: worldSizeIsValid ? worldSize : 1)
        if let presetError { resolution.report.messages.append(presetError) }
        if !worldSizeIsValid {
            let given = options.worldSize.map(ConfigValue.int) ?? .string(environment ?? "")
            resolution.report.add(
                .error, "world_size", given,
                "set the number of processes (--world-size or WORLD_SIZE) to an integer in \(ConfigRange.count)")
        }
        let fields = Config.fields
        for entry in entries where entry.key != presetKey {
            if entry.key == trainerKey {
                checkTrainerEntry(entry, in: &resolution)
            } else if let field = fields.first(where: { $0.name == entry.key }) {
                apply(entry, to: field, in: &resolution)
            } else {
                classify(entry, in: &resolution)
            }
        }
        // The checks may rely on every value being in its range (their products of counts fit in an
        // Int), so they run only when it is; the values they derive or change are held to the ranges too.
        let rangeErrors = resolution.config.rangeErrors
        resolution.report.messages += rangeErrors
        guard rangeErrors.isEmpty, worldSizeIsValid else { return resolution }
        for check in ConfigCheck.shared + Config.checks { check.run(&resolution) }
        let changed = Set(resolution.report.changes.map(\.field)).union(resolution.derivedFields)
        for error in resolution.config.rangeErrors where changed.contains(error.field) {
            resolution.report.add(
                .error, error.field, error.value,
                error.text + " (the value Fledge derived from the other fields; change those)")
        }
        return resolution
    }

    private static func checkTrainerEntry<Config>(_ entry: ConfigEntry, in resolution: inout ConfigResolution<Config>) {
        let named = try? TrainerKind(configValue: entry.value)
        guard named != Config.trainer else { return }
        let text = named == nil
            ? "expected one of " + TrainerKind.allCases.map(\.rawValue).joined(separator: ", ")
            : "the file is for \(entry.value), but it is being checked as \(Config.trainer.rawValue)"
        resolution.report.add(.error, trainerKey, entry.value, text)
    }

    private static func apply<Config>(
        _ entry: ConfigEntry, to field: ConfigField<Config>, in resolution: inout ConfigResolution<Config>
    ) {
        do {
            try field.write(&resolution.config, entry.value)
        } catch {
            resolution.report.add(.error, entry.key, entry.value, "expected " + error.expected)
            return
        }
        resolution.explicitFields.insert(entry.key)
        let stored = field.read(resolution.config)
        if case .string(let text) = stored, stored != entry.value, entry.value != .null {
            let reason = if case .bool = entry.value {
                "TRL's old boolean form, read as \(text)"
            } else {
                "names are matched case-insensitively; TRL spells it \(text)"
            }
            resolution.report.add(.change, entry.key, entry.value, reason, newValue: stored)
        }
    }

    /// Handles a name that is not one of the trainer's fields: retired, unimplemented, not applicable,
    /// another trainer's, or unknown.
    private static func classify<Config>(_ entry: ConfigEntry, in resolution: inout ConfigResolution<Config>) {
        let name = entry.key
        if let retired = RetiredFields.entry(for: name) {
            resolution.report.add(
                retired.harmless ? .warning : .error, name, entry.value,
                (retired.harmless ? "ignored: TRL no longer has this field; " : "TRL no longer has this field; ")
                    + retired.advice)
        } else if let unimplemented = UnimplementedFields.entry(for: name) {
            if sameValue(entry.value, unimplemented.defaultValue) {
                resolution.report.add(
                    .note, name, entry.value,
                    "not applicable at TRL's default: Fledge does not implement \(unimplemented.feature)")
            } else {
                resolution.report.add(
                    .error, name, entry.value,
                    "Fledge does not implement \(unimplemented.feature) (\(unimplemented.reason)); remove the field "
                        + "or set it to \(unimplemented.defaultValue)")
            }
        } else if let reason = NotApplicableFields.reason(for: name) {
            resolution.report.add(.note, name, entry.value, reason)
        } else if let owner = TrainerKind.allCases.first(where: { fieldNames(of: $0).contains(name) }) {
            resolution.report.add(
                .error, name, entry.value,
                "\(name) is a \(owner.trlConfigName) field, not a \(Config.trainer.trlConfigName) field "
                    + "(check with --trainer \(owner.rawValue))")
        } else {
            let known = Config.fields.map(\.name) + [presetKey, trainerKey]
            let hint = NearestName.suggestion(for: name, among: known).map { "; did you mean \($0)?" } ?? ""
            resolution.report.add(.error, name, entry.value, "unknown field" + hint)
        }
    }

    /// The field names of a trainer's config.
    static func fieldNames(of trainer: TrainerKind) -> [String] {
        switch trainer {
        case .grpo: GRPOConfig.fields.map(\.name)
        case .dpo: DPOConfig.fields.map(\.name)
        case .ppo: PPOConfig.fields.map(\.name)
        case .sft: SFTConfig.fields.map(\.name)
        case .rloo: RLOOConfig.fields.map(\.name)
        case .reward: RewardConfig.fields.map(\.name)
        case .kto: KTOConfig.fields.map(\.name)
        case .distill: DistillationConfig.fields.map(\.name)
        }
    }

    /// Equality that treats `1` and `1.0` as the same number.
    static func sameValue(_ a: ConfigValue, _ b: ConfigValue) -> Bool {
        if let x = try? Double(configValue: a), let y = try? Double(configValue: b),
           a.isNumber || b.isNumber {
            return x == y
        }
        return a == b
    }
}

extension ConfigValue {
    var isNumber: Bool {
        switch self {
        case .int, .double: true
        default: false
        }
    }
}
