/// A `*_kwargs` field's arguments that Fledge cannot take, with the reason and the fix.
public struct KeywordArgumentsError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public let description: String
}

/// Reads a `*_kwargs` field's arguments by name, as the Python function they are passed to would,
/// remembering which were read so that the rest can be refused by name.
struct KeywordArgumentReader {
    /// The field's name (`lr_scheduler_kwargs`), which every message starts with.
    let field: String
    let arguments: [ConfigEntry]
    private(set) var read: Set<String> = []

    init(field: String, arguments: KeywordArguments?) {
        self.field = field
        self.arguments = arguments?.entries ?? []
    }

    /// An error about argument `name`: "field.name " followed by `problem`.
    func error(_ name: String, _ problem: String) -> KeywordArgumentsError {
        KeywordArgumentsError(description: "\(field).\(name) \(problem)")
    }

    /// A finite number, or nil when the argument is absent or null.
    mutating func number(_ name: String) throws(KeywordArgumentsError) -> Double? {
        guard let value = take(name) else { return nil }
        guard let number = try? Double(configValue: value), number.isFinite else {
            throw error(name, "must be a finite number, not \(value)")
        }
        return number
    }

    /// An integer, or nil when the argument is absent or null.
    mutating func integer(_ name: String) throws(KeywordArgumentsError) -> Int? {
        guard let value = take(name) else { return nil }
        guard let integer = try? Int(configValue: value) else { throw error(name, "must be an integer, not \(value)") }
        return integer
    }

    /// A boolean, or nil when the argument is absent or null.
    mutating func boolean(_ name: String) throws(KeywordArgumentsError) -> Bool? {
        guard let value = take(name) else { return nil }
        guard case .bool(let flag) = value else { throw error(name, "must be true or false, not \(value)") }
        return flag
    }

    /// A list of integers (a single integer is a list of one), or nil when absent or null.
    mutating func integers(_ name: String) throws(KeywordArgumentsError) -> [Int]? {
        guard let value = take(name) else { return nil }
        if case .int(let single) = value { return [single] }
        guard case .list(let values) = value, let integers = try? values.map({ try Int(configValue: $0) }) else {
            throw error(name, "must be a list of integers, not \(value)")
        }
        return integers
    }

    /// Whether the argument is given at all (null included), marking it read.
    mutating func isGiven(_ name: String) -> Bool {
        read.insert(name)
        return arguments.contains { $0.key == name }
    }

    /// The argument's value as given, or nil when absent or null.
    mutating func take(_ name: String) -> ConfigValue? {
        read.insert(name)
        guard let value = arguments.first(where: { $0.key == name })?.value, value != .null else { return nil }
        return value
    }

    /// Refuses the first argument no read asked for: "field.name is not an argument of `owner`, which takes …".
    func refuseUnread(of owner: String) throws(KeywordArgumentsError) {
        guard let extra = arguments.first(where: { !read.contains($0.key) }) else { return }
        let accepted = read.isEmpty ? "takes no arguments" : "takes " + read.sorted().joined(separator: ", ")
        throw error(extra.key, "is not an argument of \(owner), which \(accepted)")
    }
}
