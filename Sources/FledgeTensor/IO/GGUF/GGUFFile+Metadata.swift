extension GGUFFile {
    /// The string at `key`, nil when absent; a value of another type is an error naming the key.
    public func string(_ key: String) throws(GGUFError) -> String? {
        guard let value = metadata[key] else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    /// The integer (of any width) at `key`, nil when absent; a value of another type, or one that
    /// does not fit an `Int`, is an error naming the key.
    public func integer(_ key: String) throws(GGUFError) -> Int? {
        guard let value = metadata[key] else { return nil }
        guard let integer = value.integer else { throw wrongType(key, "an integer", value) }
        return integer
    }

    /// The number (integer or float) at `key`, nil when absent.
    public func number(_ key: String) throws(GGUFError) -> Double? {
        guard let value = metadata[key] else { return nil }
        guard let number = value.number else { throw wrongType(key, "a number", value) }
        return number
    }

    /// The bool at `key`, nil when absent.
    public func bool(_ key: String) throws(GGUFError) -> Bool? {
        guard let value = metadata[key] else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, "a bool", value) }
        return flag
    }

    /// The array of strings at `key`, nil when absent.
    public func strings(_ key: String) throws(GGUFError) -> [String]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(.string, let values) = value else { throw wrongType(key, "an array of strings", value) }
        return values.map { if case .string(let text) = $0 { text } else { "" } }
    }

    /// The array of integers (of any one width) at `key`, nil when absent.
    public func integers(_ key: String) throws(GGUFError) -> [Int]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(_, let values) = value else { throw wrongType(key, "an array of integers", value) }
        var integers: [Int] = []
        integers.reserveCapacity(values.count)
        for element in values {
            guard let integer = element.integer else { throw wrongType(key, "an array of integers", value) }
            integers.append(integer)
        }
        return integers
    }

    /// The array of numbers at `key`, nil when absent.
    public func numbers(_ key: String) throws(GGUFError) -> [Double]? {
        guard let value = metadata[key] else { return nil }
        guard case .array(_, let values) = value else { throw wrongType(key, "an array of numbers", value) }
        var numbers: [Double] = []
        numbers.reserveCapacity(values.count)
        for element in values {
            guard let number = element.number else { throw wrongType(key, "an array of numbers", value) }
            numbers.append(number)
        }
        return numbers
    }

    /// `key`'s value, which must be present.
    public func required<Value>(_ key: String, _ read: (String) throws(GGUFError) -> Value?, hint: String) throws(GGUFError) -> Value {
        guard let value = try read(key) else { throw .missingMetadata(file: url.path, key: key, hint: hint) }
        return value
    }

    private func wrongType(_ key: String, _ expected: String, _ value: GGUFValue) -> GGUFError {
        .wrongMetadataType(file: url.path, key: key, expected: expected, found: value.summary)
    }
}
