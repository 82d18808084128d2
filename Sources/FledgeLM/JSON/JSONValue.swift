/// A JSON value as read from a tokenizer file, a chat, or a tool definition.
///
/// Objects keep their keys in file order, because chat templates print tool definitions with
/// `tojson` and iterate over `items()`, and Python's dictionaries keep insertion order.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// A short name of the value's type, for error messages.
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .int: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value under `key` when this is an object, else `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }
}

/// A JSON object that remembers the order of its keys.
public struct JSONObject: Equatable, Sendable {
    public static func == (left: JSONObject, right: JSONObject) -> Bool {
        left.count == right.count && left.keys.allSatisfy { left[$0] == right[$0] }
    }

    /// The keys in the order they were first set.
    public private(set) var keys: [String] = []
    private var values: [ExactString: JSONValue] = [:]

    /// An empty object.
    public init() {}

    /// An object with these entries, in this order.
    public init(_ entries: [(String, JSONValue)]) {
        for (key, value) in entries { self[key] = value }
    }

    /// The value for `key`; setting a new key appends it, setting an existing one keeps its place.
    public subscript(key: String) -> JSONValue? {
        get { values[ExactString(key)] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: ExactString(key)) == nil { keys.append(key) }
            } else if values.removeValue(forKey: ExactString(key)) != nil {
                keys.removeAll { ExactString($0) == ExactString(key) }
            }
        }
    }

    /// The entries in key order.
    public var entries: [(key: String, value: JSONValue)] { keys.map { ($0, values[ExactString($0)]!) } }

    /// The number of entries.
    public var count: Int { keys.count }
}
