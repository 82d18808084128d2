/// A config type with a field table: each trainer's config, and the argument groups they are made of
/// (``RunArguments``, ``TrainingArguments``, ``GenerationArguments``).
public protocol ConfigFieldTable {
    /// Every field, by TRL name.
    static var fields: [ConfigField<Self>] { get }
}

extension ConfigFieldTable {
    /// The field stored at `keyPath`, if the table has it: for a command-line option that takes the
    /// field's values (`fledge generate --top-p` is `top_p`).
    public static func field(for keyPath: PartialKeyPath<Self>) -> ConfigField<Self>? {
        fields.first { $0.keyPath == keyPath }
    }

    /// An error for each field whose value is outside its range, naming the field, the value and the
    /// range; empty when every value is in range. The resolver reports the same messages.
    public var rangeErrors: [ConfigMessage] {
        Self.fields.compactMap { field in
            field.rangeViolation(self).map {
                ConfigMessage(kind: .error, field: field.name, value: field.read(self), newValue: nil, text: $0)
            }
        }
    }

    /// Throws when a field is outside its range: the trainers call this on the config they are given,
    /// so that a config built in code, which no resolver has checked, is held to the same ranges.
    public func checkRanges() throws(ConfigRangeError) {
        let errors = rangeErrors
        if !errors.isEmpty { throw ConfigRangeError(errors: errors) }
    }
}

/// Config values outside their fields' ranges.
public struct ConfigRangeError: Error, Equatable, CustomStringConvertible {
    /// One error per field at fault.
    public let errors: [ConfigMessage]

    public var description: String {
        "config values outside their ranges: " + errors.map(\.description).joined(separator: "; ")
    }
}
