/// A dictionary with string keys that remembers the order of its keys, as Python's `dict` does.
///
/// Keys are compared by exact Unicode scalars (see ``ExactString``).
public struct OrderedStringDictionary<Value> {
    /// The keys in the order they were first set.
    public private(set) var keys: [String] = []
    /// The values, in the order of `keys`.
    public private(set) var orderedValues: [Value] = []
    private var positions: [ExactString: Int] = [:]

    /// An empty dictionary.
    public init() {}

    /// A dictionary with these entries, in this order (a repeated key keeps its first place and last value).
    public init(_ entries: [(String, Value)]) {
        for (key, value) in entries { self[key] = value }
    }

    /// The value for `key`; setting a new key appends it, setting an existing one keeps its place.
    public subscript(key: String) -> Value? {
        get { positions[ExactString(key)].map { orderedValues[$0] } }
        set {
            let exact = ExactString(key)
            if let newValue {
                // One hash lookup for a new key (the common case while parsing).
                if let position = positions.updateValue(keys.count, forKey: exact) {
                    positions[exact] = position
                    orderedValues[position] = newValue
                } else {
                    keys.append(key)
                    orderedValues.append(newValue)
                }
            } else if let position = positions.removeValue(forKey: exact) {
                keys.remove(at: position)
                orderedValues.remove(at: position)
                for (index, key) in keys.enumerated().dropFirst(position) { positions[ExactString(key)] = index }
            }
        }
    }

    /// Appends `value` under `key` unless the key is already present; says whether it was appended.
    public mutating func insertNew(_ key: String, _ value: Value) -> Bool {
        let exact = ExactString(key)
        if let position = positions.updateValue(keys.count, forKey: exact) {
            positions[exact] = position
            return false
        }
        keys.append(key)
        orderedValues.append(value)
        return true
    }

    /// The entries in key order.
    public var entries: [(key: String, value: Value)] { Array(zip(keys, orderedValues)) }

    /// The number of entries.
    public var count: Int { keys.count }

    /// The same keys with transformed values.
    public func mapValues<T>(_ transform: (Value) throws -> T) rethrows -> OrderedStringDictionary<T> {
        var result = OrderedStringDictionary<T>()
        result.keys = keys
        result.orderedValues = try orderedValues.map(transform)
        result.positions = positions
        return result
    }

    /// The same keys with `values` in their order (one per key), sharing this dictionary's key storage.
    public func replacingValues(_ values: [Value]) -> OrderedStringDictionary {
        precondition(values.count == keys.count, "replacingValues needs one value per key")
        var result = self
        result.orderedValues = values
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
