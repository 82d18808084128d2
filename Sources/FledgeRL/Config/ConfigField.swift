/// One named field of a config type: its TRL name, the key path of the Swift property behind it and,
/// for a numeric field, the range of values it accepts.
///
/// The field tables of the config types are the single place where a name meets a property and its
/// range; loading, overriding, range checks, messages and `config.resolved.yaml` all go through them.
public struct ConfigField<Root> {
    /// The field's name, as TRL spells it (`per_device_train_batch_size`).
    public let name: String
    /// The property behind the field.
    public let keyPath: PartialKeyPath<Root>
    /// The values a numeric field accepts; nil for a field that is not a number.
    public let range: ConfigRange?
    let read: (Root) -> ConfigValue
    let write: (inout Root, ConfigValue) throws(ConfigTypeMismatch) -> Void
    /// What is wrong with the field's value in `root` ("must be in (0, 1]"), or nil when it is in range.
    let rangeViolation: (Root) -> String?

    /// A field stored at `keyPath` that is not a number (a numeric field declares its range with
    /// ``init(_:_:_:)``; `ConfigRangeTests` fails for one that does not).
    public init<Value: ConfigRepresentable>(_ name: String, _ keyPath: WritableKeyPath<Root, Value>) {
        self.init(name: name, keyPath: keyPath, range: nil, read: { $0[keyPath: keyPath].configValue },
                  write: { (root, value) throws(ConfigTypeMismatch) in
                      root[keyPath: keyPath] = try Value(configValue: value)
                  },
                  rangeViolation: { _ in nil })
    }

    /// A numeric field stored at `keyPath` that accepts the values in `range` (`null`, where the field
    /// allows it, is always accepted; each item of a list must be in the range).
    public init<Value: ConfigNumbers>(_ name: String, _ keyPath: WritableKeyPath<Root, Value>, _ range: ConfigRange) {
        self.init(name: name, keyPath: keyPath, range: range, read: { $0[keyPath: keyPath].configValue },
                  write: { (root, value) throws(ConfigTypeMismatch) in
                      root[keyPath: keyPath] = try Value(configValue: value)
                  },
                  rangeViolation: { root in
                      let numbers = root[keyPath: keyPath].configNumbers
                      guard let index = numbers.firstIndex(where: { !range.contains($0) }) else { return nil }
                      guard Value.isConfigList else { return "must be \(range.requirement)" }
                      let number = numbers[index]
                      let item = number.isFinite ? ConfigRange.format(number) : ConfigValue.double(number).yaml
                      return "item \(index + 1) is \(item); every item must be \(range.requirement)"
                  })
    }

    private init(
        name: String, keyPath: PartialKeyPath<Root>, range: ConfigRange?, read: @escaping (Root) -> ConfigValue,
        write: @escaping (inout Root, ConfigValue) throws(ConfigTypeMismatch) -> Void,
        rangeViolation: @escaping (Root) -> String?
    ) {
        self.name = name
        self.keyPath = keyPath
        self.range = range
        self.read = read
        self.write = write
        self.rangeViolation = rangeViolation
    }

    /// The same field, reached through `path` from an enclosing config.
    func lifted<Outer>(through path: WritableKeyPath<Outer, Root>) -> ConfigField<Outer> {
        let read = self.read
        let write = self.write
        let rangeViolation = self.rangeViolation
        return ConfigField<Outer>(
            name: name,
            keyPath: (path as AnyKeyPath).appending(path: keyPath)! as! PartialKeyPath<Outer>,
            range: range,
            read: { read($0[keyPath: path]) },
            write: { (outer, value) throws(ConfigTypeMismatch) in try write(&outer[keyPath: path], value) },
            rangeViolation: { rangeViolation($0[keyPath: path]) })
    }
}

extension Array {
    /// The fields of a nested config, reached through `path`.
    func lifted<Inner, Outer>(through path: WritableKeyPath<Outer, Inner>) -> [ConfigField<Outer>]
    where Element == ConfigField<Inner> {
        map { $0.lifted(through: path) }
    }
}
