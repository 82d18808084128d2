/// A `*_kwargs` field (`lr_scheduler_kwargs`, `chat_template_kwargs`): named arguments passed on to
/// another function as TRL passes its dictionary, written as a mapping or, as transformers also
/// accepts, as a JSON object in a string.
public struct KeywordArguments: ConfigRepresentable, Equatable {
    /// The arguments in the order given.
    public var entries: [ConfigEntry]

    /// Arguments from `name: value` entries.
    public init(_ entries: [ConfigEntry]) { self.entries = entries }

    public init(configValue: ConfigValue) throws(ConfigTypeMismatch) {
        let expected = ConfigTypeMismatch(expected: "a mapping of argument names to values (or a JSON object in a string)")
        switch configValue {
        case .map(let entries):
            self.entries = entries
        case .string(let text) where text.trimmingWhitespace.hasPrefix("{"):
            guard let document = try? ConfigDocument(yaml: text, source: "keyword arguments") else { throw expected }
            self.entries = document.entries
        default:
            throw expected
        }
    }

    public var configValue: ConfigValue { .map(entries) }

    /// The arguments as a JSON object (chat-template variables).
    public var jsonObject: JSONObject {
        JSONObject(entries.map { ($0.key, Self.json($0.value)) })
    }

    private static func json(_ value: ConfigValue) -> JSONValue {
        switch value {
        case .null: .null
        case .bool(let value): .bool(value)
        case .int(let value): .int(value)
        case .double(let value): .double(value)
        case .string(let value): .string(value)
        case .list(let values): .array(values.map(json))
        case .map(let entries): .object(JSONObject(entries.map { ($0.key, json($0.value)) }))
        }
    }
}
