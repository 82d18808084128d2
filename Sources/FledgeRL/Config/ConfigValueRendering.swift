extension ConfigValue {
    /// The value in YAML flow style that reads back as the same value (strings quoted where needed).
    public var yaml: String {
        switch self {
        case .double(let value) where value.isNaN: ".nan"
        case .double(let value) where value.isInfinite: value < 0 ? "-.inf" : ".inf"
        case .string(let text):
            ConfigDocument.plainScalar(text) == .string(text) && text.allSatisfy(Self.isPlainSafe)
                && !text.hasPrefix("-") && !text.hasPrefix(" ") && !text.hasSuffix(" ")
                ? text : json
        case .list(let values): "[" + values.map(\.yaml).joined(separator: ", ") + "]"
        case .map(let entries): "{" + entries.map { "\($0.key): \($0.value.yaml)" }.joined(separator: ", ") + "}"
        default: description
        }
    }

    /// The value as JSON (non-finite numbers become `null`, which JSON cannot otherwise express).
    public var json: String {
        switch self {
        case .null: "null"
        case .bool, .int: description
        case .double(let value): value.isFinite ? value.description : "null"
        case .string(let text): Self.jsonString(text)
        case .list(let values): "[" + values.map(\.json).joined(separator: ", ") + "]"
        case .map(let entries):
            "{" + entries.map { Self.jsonString($0.key) + ": " + $0.value.json }.joined(separator: ", ") + "}"
        }
    }

    private static func isPlainSafe(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || "_-./+ ()".contains(character)
    }

    static func jsonString(_ text: String) -> String { JSONStringLiteral.quoted(text) }
}
