import FledgeTensor

/// The metadata and extra tensors convert_hf_to_gguf.py writes for the families whose layers differ
/// from Llama's (Gemma 2, Gemma 3, OLMo 2, SmolLM3, Phi-3), read back by `GGUFFamilyConfig`. Where
/// llama.cpp fixes a value that the model's config.json sets otherwise (Gemma's attention scale,
/// Gemma 2's attention soft cap, SmolLM3's NoPE layers), the export is refused with an error
/// naming the field, since llama.cpp would run another model.
enum GGUFFamilyMetadata {
    /// The family's entries for the model whose config.json `reader` reads and whose shared config is `config`.
    static func entries(_ reader: ConfigReader, config: ModelConfig, architecture: GGUFArchitecture) throws -> [(String, GGUFValue)] {
        let prefix = architecture.name + "."
        let file = reader.file
        func refuse(_ field: String, _ problem: String) -> ModelError {
            .invalidConfig(file: file, field: field,
                           problem: problem + "; llama.cpp's '\(architecture.name)' cannot run it (export a safetensors directory instead)")
        }
        switch architecture.name {
        case "gemma2":
            let family = try Gemma2.config(reader, shared: config)
            try checkAttentionScale(reader, config: config, largest: 46, refuse: refuse)
            guard let attentionCap = family.attentionSoftCap else { throw refuse("attn_logit_softcapping", "is null") }
            guard let logitCap = family.logitSoftCap else { throw refuse("final_logit_softcapping", "is null") }
            return [(prefix + "attn_logit_softcapping", .float32(attentionCap)), (prefix + "final_logit_softcapping", .float32(logitCap))]
                + (try slidingWindow(family.slidingWindows, prefix: prefix, pattern: 2, refuse: refuse))
        case "gemma3":
            let family = try Gemma3Text.config(reader, shared: config)
            try checkAttentionScale(reader, config: config, largest: 62, refuse: refuse)
            if family.attentionSoftCap != nil { throw refuse("attn_logit_softcapping", "is set (Gemma 3 has none)") }
            guard family.localRope.kind == .default else {
                throw refuse("rope_parameters.sliding_attention", "scales the local layers' rope ('\(family.localRope.kind.rawValue)')")
            }
            var entries: [(String, GGUFValue)] = [(prefix + "rope.freq_base_swa", .float32(Float(family.localRope.theta)))]
            if let cap = family.logitSoftCap { entries.append((prefix + "final_logit_softcapping", .float32(cap))) }
            if family.slidingWindows.contains(where: { $0 != nil }) {
                entries += try slidingWindow(family.slidingWindows, prefix: prefix, pattern: 6, refuse: refuse)
            }
            return entries
        case "smollm3":
            let family = try SmolLM3.config(reader, shared: config)
            guard family.rotary == (0..<config.layers).map({ ($0 + 1) % 4 != 0 }) else {
                throw refuse("no_rope_layers", "is \(family.rotary.map { $0 ? 1 : 0 }), not a NoPE layer every 4th (llama.cpp's fixed layout)")
            }
            guard family.slidingWindows.allSatisfy({ $0 == nil }) else { throw refuse("layer_types", "has sliding-window layers") }
            return []
        case "phi3":
            let family = try Phi3.config(reader, shared: config)
            let rope = config.rope
            var entries: [(String, GGUFValue)] = [
                (prefix + "rope.dimension_count", .uint32(UInt32(rope.rotaryDimensions(headDim: config.headDim)))),
                (prefix + "attention.sliding_window", .uint32(UInt32(clamping: family.slidingWindow ?? 0))),
            ]
            if rope.kind == .longrope {
                entries += [(prefix + "rope.scaling.original_context_length", .uint32(UInt32(clamping: rope.originalMaxPositions))),
                            (prefix + "rope.scaling.attn_factor", .float32(Float(rope.attentionFactor)))]
            }
            return entries
        default:
            return []
        }
    }

    /// The tensors convert_hf_to_gguf.py adds: Llama 3's rope scaling as `rope_freqs`
    /// (`GGUFLlama3Rope`), Phi-3's LongRoPE factors (`rope_factors_long`, `rope_factors_short`), F32,
    /// one per rotated pair of dims.
    static func extraTensors(_ config: ModelConfig, architecture: GGUFArchitecture) -> [(String, Tensor)] {
        if config.rope.kind == .llama3 {
            let divisors = GGUFLlama3Rope.divisors(config.rope, dim: config.rope.rotaryDimensions(headDim: config.headDim))
            return [(GGUFLlama3Rope.tensorName, Tensor(shape: [divisors.count], values: divisors))]
        }
        guard architecture.name == "phi3", config.rope.kind == .longrope else { return [] }
        let factors = [("rope_factors_long.weight", config.rope.longFactor), ("rope_factors_short.weight", config.rope.shortFactor)]
        return factors.map { name, values in (name, Tensor(shape: [values.count], values: values.map { Float($0) })) }
    }

    /// llama.cpp scales Gemma's queries by head_dim^-½ (by (hidden / heads)^-½ for the largest
    /// model, which it knows by its layer count); `query_pre_attn_scalar` must say the same.
    private static func checkAttentionScale(_ reader: ConfigReader, config: ModelConfig, largest: Int,
                                            refuse: (String, String) -> ModelError) throws {
        let expected = config.layers == largest ? config.hiddenSize / config.heads : config.headDim
        let scalar = try reader.double("query_pre_attn_scalar", default: 256)
        guard scalar == Double(expected) else {
            let source = config.layers == largest ? "hidden_size / heads" : "head_dim"
            throw refuse("query_pre_attn_scalar", "is \(scalar); llama.cpp takes \(expected) (\(source))")
        }
    }

    /// `attention.sliding_window`, and the per-layer layout as `attention.sliding_window_pattern`
    /// (one bool per layer) where it is not llama.cpp's default period `pattern`.
    private static func slidingWindow(_ windows: [Int?], prefix: String, pattern: Int,
                                      refuse: (String, String) -> ModelError) throws -> [(String, GGUFValue)] {
        let sizes = Set(windows.compactMap { $0 })
        guard sizes.count <= 1 else { throw refuse("sliding_window", "differs between layers (\(sizes.sorted()))") }
        let sliding = windows.map { $0 != nil }
        var entries: [(String, GGUFValue)] = [(prefix + "attention.sliding_window", .uint32(UInt32(clamping: sizes.first ?? 4096)))]
        if sliding != (0..<windows.count).map({ $0 % pattern < pattern - 1 }) {
            entries.append((prefix + "attention.sliding_window_pattern", .array(element: .bool, values: sliding.map(GGUFValue.bool))))
        }
        return entries
    }
}
