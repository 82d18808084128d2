/// JSON values written as Swift literals, for the config objects that code builds (benchmark and
/// demo models, tests): `["model_type": "llama", "hidden_size": 576, "bos_token_id": nil]`.
extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension OrderedStringDictionary: ExpressibleByDictionaryLiteral {
    /// The entries in the order written (a repeated key keeps its first place and last value).
    public init(dictionaryLiteral elements: (String, Value)...) { self.init(elements) }
}
