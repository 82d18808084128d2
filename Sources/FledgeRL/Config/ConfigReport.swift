/// One thing the resolver has to say about a field: a change it made, a warning, a note or an error.
///
/// Every message names the field and the value it had; a change also gives the value it has now.
public struct ConfigMessage: Equatable, Sendable, CustomStringConvertible {
    /// How serious a message is.
    public enum Kind: String, Sendable {
        /// Fledge changed the value (`from` → `to`) and says why.
        case change
        /// The config is usable, but probably not what was meant.
        case warning
        /// Information: a recommendation, or a field that does not apply to Fledge.
        case note
        /// The config cannot be used as it is.
        case error
    }

    /// How serious the message is.
    public let kind: Kind
    /// The field, by TRL name.
    public let field: String
    /// The value the field had (for a change: before it).
    public let value: ConfigValue
    /// For a change: the value the field has now.
    public let newValue: ConfigValue?
    /// Why, and what to do.
    public let text: String

    /// One line: `field: from → to: reason` for a change, `field = value: text` otherwise.
    public var description: String {
        if let newValue { return "\(field): \(value) → \(newValue): \(text)" }
        return "\(field) = \(value): \(text)"
    }
}

/// Everything the resolver said about one config, in the order it was said.
public struct ConfigReport: Equatable, Sendable {
    /// All messages, in order.
    public internal(set) var messages: [ConfigMessage] = []

    /// The messages of each kind.
    public var changes: [ConfigMessage] { messages.filter { $0.kind == .change } }
    public var warnings: [ConfigMessage] { messages.filter { $0.kind == .warning } }
    public var notes: [ConfigMessage] { messages.filter { $0.kind == .note } }
    public var errors: [ConfigMessage] { messages.filter { $0.kind == .error } }
    /// Whether training can start with this config (no errors).
    public var isUsable: Bool { errors.isEmpty }

    mutating func add(_ kind: ConfigMessage.Kind, _ field: String, _ value: ConfigValue, _ text: String,
                      newValue: ConfigValue? = nil) {
        messages.append(ConfigMessage(kind: kind, field: field, value: value, newValue: newValue, text: text))
    }
}
