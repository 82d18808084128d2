/// A dictionary with string keys that remembers the order of its keys, as Python's `dict` does.
///
/// Keys are compared by exact Unicode scalars (see ``ExactString``).
public struct OrderedStringDictionary<Value> {
    /// The keys in the order they were first set.
    public private(set) var keys: [String] = []
    private var values: [ExactString: Value] = [:]

    /// An empty dictionary.
    public init() {}

    /// A dictionary with these entries, in this order (a repeated key keeps its first place and last value).
    public init(_ entries: [(String, Value)]) {
        for (key, value) in entries { self[key] = value }
    }

    /// The value for `key`; setting a new key appends it, setting an existing one keeps its place.
    public subscript(key: String) -> Value? {
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
    public var entries: [(key: String, value: Value)] { keys.map { ($0, values[ExactString($0)]!) } }

    /// The values in key order.
    public var orderedValues: [Value] { keys.map { values[ExactString($0)]! } }

    /// The number of entries.
    public var count: Int { keys.count }

    /// The same keys with transformed values.
    public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> OrderedStringDictionary<T> {
        var result = OrderedStringDictionary<T>()
        for key in keys { result[key] = try transform(values[ExactString(key)]!) }
        return result
    }
}

extension OrderedStringDictionary: Sendable where Value: Sendable {}

extension OrderedStringDictionary: Equatable where Value: Equatable {
    /// Equal when both hold the same keys with equal values, in any order (as Python compares dicts).
    public static func == (left: OrderedStringDictionary, right: OrderedStringDictionary) -> Bool {
        left.count == right.count && left.keys.allSatisfy { left[$0] == right[$0] }
    }
}
