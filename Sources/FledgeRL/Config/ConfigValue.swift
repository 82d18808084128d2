/// A value read from a config file or a command-line flag, before it is given a field's type.
///
/// Maps keep their order so that the resolved config reads in the order the user wrote it.
public indirect enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    case map([ConfigEntry])

    /// The value as it is shown in messages: YAML flow style (`5e-05`, `[a, b]`, `{k: v}`).
    public var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .double(let value): value.description
        case .string(let value): value.isEmpty ? "''" : value
        case .list(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .map(let entries): "{" + entries.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// One `key: value` pair of a config mapping.
public struct ConfigEntry: Equatable, Sendable {
    /// The field name.
    public var key: String
    /// The value.
    public var value: ConfigValue

    /// An entry `key: value`.
    public init(key: String, value: ConfigValue) {
        self.key = key
        self.value = value
    }
}
