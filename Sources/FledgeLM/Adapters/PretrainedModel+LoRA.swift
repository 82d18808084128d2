import FledgeNN
import FledgeTensor

extension PretrainedModel {
    /// Every projection LoRA can adapt, under its module name (`model.layers.0.self_attn.q_proj`),
    /// layer by layer in PEFT's module order.
    var namedLinears: [(String, Linear)] {
        decoder.namedModules.compactMap { name, module in (module as? Linear).map { ("model.\(name)", $0) } }
    }

    /// The attached LoRA adapters under their module names, in `namedLinears` order.
    var loraModules: [(String, LoRAAdapter)] {
        namedLinears.compactMap { name, linear in (linear.adapter as? LoRAAdapter).map { (name, $0) } }
    }

    /// Attaches fresh LoRA adapters (A Kaiming-uniform as PEFT draws it, B zero) to the projections
    /// `options.targetModules` selects, and freezes every base weight: afterwards
    /// `trainableParameters` are exactly the adapters' A and B. Throws when an option is out of
    /// range, a target matches no module, or adapters are already attached.
    public func addLoRA(_ options: LoRAOptions) throws {
        attachLoRA(options, to: try selectedLinears(options))
    }

    /// The projections `options` selects, after checking the options.
    func selectedLinears(_ options: LoRAOptions) throws(AdapterError) -> [(String, Linear)] {
        guard loraOptions == nil else { throw .alreadyAttached }
        try options.validate()
        let linears = namedLinears
        let selected = Set(try options.selectedModules(among: linears.map(\.0)))
        return linears.filter { selected.contains($0.0) }
    }

    func attachLoRA(_ options: LoRAOptions, to linears: [(String, Linear)]) {
        for (_, weight) in namedWeights { weight.requiresGrad = false }
        var generator = SeededGenerator(seed: options.seed)
        for (_, linear) in linears {
            linear.adapter = LoRAAdapter(inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, rank: options.r,
                                         scale: options.scale, dropout: Float(options.dropout), generator: &generator,
                                         doraWeight: options.useDoRA ? linear.denseWeight : nil)
        }
        loraOptions = options
    }

    /// Whether LoRA adapters are attached.
    public var hasAdapters: Bool { loraOptions != nil }

    /// Whether the attached adapters take part in forward passes (false without adapters).
    /// Switching them off gives the base model — the reference policy of GRPO and DPO — with no
    /// second copy of the weights; inference then uses the fused projections again. Modules trained
    /// whole (`trainModulesFully`) switch back to the base's weights, as PEFT's `disable_adapter`
    /// switches each `ModulesToSaveWrapper` to its original module. Not for use from concurrent
    /// tasks that want different settings.
    public var adaptersEnabled: Bool {
        get { hasAdapters && loraModules.allSatisfy(\.1.isEnabled) }
        set {
            for (_, adapter) in loraModules { adapter.isEnabled = newValue }
            useSavedModuleWeights(original: !newValue)
        }
    }

    /// Runs `body` with the adapters switched off (the base model), then restores the setting.
    public func withAdaptersDisabled<R>(_ body: () throws -> R) rethrows -> R {
        let enabled = loraModules.map(\.1.isEnabled)
        adaptersEnabled = false
        defer {
            for ((_, adapter), wasEnabled) in zip(loraModules, enabled) { adapter.isEnabled = wasEnabled }
            useSavedModuleWeights(original: !enabled.allSatisfy { $0 })
        }
        return try body()
    }
}
