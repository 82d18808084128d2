/// A type that a config field can hold: it reads itself from a ``ConfigValue`` and writes itself back.
///
/// Reading is lenient in the ways TRL's own parser is: numbers may come as strings (`"1e-5"`), booleans
/// as `"true"`/`"false"`, and a single item where a list is expected.
public protocol ConfigRepresentable: Sendable {
    /// Reads the value, or throws a ``ConfigTypeMismatch`` that says what was expected.
    init(configValue: ConfigValue) throws(ConfigTypeMismatch)
    /// The value as it is written to `config.resolved.yaml` and shown in messages.
    var configValue: ConfigValue { get }
}

/// A value of the wrong type for its field.
public struct ConfigTypeMismatch: Error, Sendable {
    /// What the field accepts, e.g. "a number" or "one of grpo, bnpo".
    public let expected: String
}

extension Int: ConfigRepresentable {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        switch configValue {
        case .int(let value): self = value
        case .double(let value) where value.rounded() == value && abs(value) < 1e15: self = Int(value)
        case .string(let text) where Int(text.trimmingWhitespace) != nil: self = Int(text.trimmingWhitespace)!
        default: throw ConfigTypeMismatch(expected: "an integer")
        }
    }
    public var configValue: ConfigValue { .int(self) }
}

extension Double: ConfigRepresentable {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        switch configValue {
        case .int(let value): self = Double(value)
        case .double(let value): self = value
        case .string(let text) where Double(text.trimmingWhitespace) != nil: self = Double(text.trimmingWhitespace)!
        default: throw ConfigTypeMismatch(expected: "a number")
        }
    }
    public var configValue: ConfigValue { .double(self) }
}

extension Bool: ConfigRepresentable {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        switch configValue {
        case .bool(let value): self = value
        case .string(let text) where ["true", "false"].contains(text.lowercased()): self = text.lowercased() == "true"
        default: throw ConfigTypeMismatch(expected: "true or false")
        }
    }
    public var configValue: ConfigValue { .bool(self) }
}

extension String: ConfigRepresentable {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        switch configValue {
        case .string(let value): self = value
        case .int, .double, .bool: self = configValue.description
        default: throw ConfigTypeMismatch(expected: "a string")
        }
    }
    public var configValue: ConfigValue { .string(self) }
}

extension Optional: ConfigRepresentable where Wrapped: ConfigRepresentable {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        if case .null = configValue {
            self = .none
            return
        }
        do {
            self = .some(try Wrapped(configValue: configValue))
        } catch {
            throw ConfigTypeMismatch(expected: error.expected + " or null")
        }
    }
    public var configValue: ConfigValue { self?.configValue ?? .null }
}

extension Array: ConfigRepresentable where Element: ConfigRepresentable {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        let items: [ConfigValue]
        if case .list(let values) = configValue { items = values } else { items = [configValue] }
        do {
            self = try items.map { (item) throws(ConfigTypeMismatch) in try Element(configValue: item) }
        } catch {
            throw ConfigTypeMismatch(expected: "a list of items that are each " + error.expected)
        }
    }
    public var configValue: ConfigValue { .list(map(\.configValue)) }
}

/// A closed set of names, matched case-insensitively (`DAPO` reads as `dapo`).
public protocol ConfigChoice: ConfigRepresentable, RawRepresentable<String>, CaseIterable {}

extension ConfigChoice {
    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        let names = Self.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .string(let text) = configValue,
              let match = Self.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() })
        else { throw ConfigTypeMismatch(expected: "one of " + names) }
        self = match
    }
    public var configValue: ConfigValue { .string(rawValue) }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
