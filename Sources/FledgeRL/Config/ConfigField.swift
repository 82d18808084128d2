/// One named field of a config type: its TRL name and the key path of the Swift property behind it.
///
/// The field tables of the config types are the single place where a name meets a property; loading,
/// overriding, messages and `config.resolved.yaml` all go through them.
public struct ConfigField<Root> {
    /// The field's name, as TRL spells it (`per_device_train_batch_size`).
    public let name: String
    /// The property behind the field.
    public let keyPath: PartialKeyPath<Root>
    let read: (Root) -> ConfigValue
    let write: (inout Root, ConfigValue) throws(ConfigTypeMismatch) -> Void

    /// A field stored at `keyPath`.
    public init<Value: ConfigRepresentable>(_ name: String, _ keyPath: WritableKeyPath<Root, Value>) {
        self.name = name
        self.keyPath = keyPath
        read = { $0[keyPath: keyPath].configValue }
        write = { (root, value) throws(ConfigTypeMismatch) in root[keyPath: keyPath] = try Value(configValue: value) }
    }

    private init(
        name: String, keyPath: PartialKeyPath<Root>, read: @escaping (Root) -> ConfigValue,
        write: @escaping (inout Root, ConfigValue) throws(ConfigTypeMismatch) -> Void
    ) {
        self.name = name
        self.keyPath = keyPath
        self.read = read
        self.write = write
    }

    /// The same field, reached through `path` from an enclosing config.
    func lifted<Outer>(through path: WritableKeyPath<Outer, Root>) -> ConfigField<Outer> {
        let read = self.read
        let write = self.write
        return ConfigField<Outer>(
            name: name,
            keyPath: (path as AnyKeyPath).appending(path: keyPath)! as! PartialKeyPath<Outer>,
            read: { read($0[keyPath: path]) },
            write: { (outer, value) throws(ConfigTypeMismatch) in try write(&outer[keyPath: path], value) })
    }
}

extension Array {
    /// The fields of a nested config, reached through `path`.
    func lifted<Inner, Outer>(through path: WritableKeyPath<Outer, Inner>) -> [ConfigField<Outer>]
    where Element == ConfigField<Inner> {
        map { $0.lifted(through: path) }
    }
}
