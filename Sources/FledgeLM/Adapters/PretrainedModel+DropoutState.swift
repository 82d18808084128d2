import FledgeTensor

extension PretrainedModel {
    /// Each LoRA adapter's dropout-generator state by module name (empty without adapters), for
    /// checkpoints: restoring it replays the same dropout masks after a resume.
    public var adapterDropoutStates: [String: UInt64] {
        Dictionary(uniqueKeysWithValues: loraModules.map { ($0.0, $0.1.dropoutGenerator.state) })
    }

    /// Sets the dropout generators of the adapters to `states` (by module name); returns the
    /// adapted modules that `states` lacks, whose generators are left as they are.
    public func restoreAdapterDropoutStates(_ states: [String: UInt64]) -> [String] {
        var missing: [String] = []
        for (module, adapter) in loraModules {
            if let state = states[module] {
                adapter.dropoutGenerator = SeededGenerator(seed: state)
            } else {
                missing.append(module)
            }
        }
        return missing
    }
}
