import FledgeTensor

/// The `general.*` and architecture metadata llama.cpp reads for a model, with the keys and types
/// convert_hf_to_gguf.py writes (`TextModel.set_gguf_parameters` and `LlamaModel`'s additions).
enum GGUFModelMetadata {
    /// The architectures Fledge exports to GGUF.
    static let exportedArchitectures = ["llama", "qwen2", "qwen3"]

    /// The llama.cpp architecture of `config`; an error naming `model_type` for one Fledge does not export.
    static func architecture(_ config: ModelConfig, source: String) throws -> GGUFArchitecture {
        guard exportedArchitectures.contains(config.modelType),
              let architecture = GGUFArchitecture.all.first(where: { $0.modelType == config.modelType }) else {
            throw ModelError.invalidConfig(file: source, field: "model_type", problem: "is '\(config.modelType)'; Fledge exports "
                + "GGUF files of model types \(exportedArchitectures.joined(separator: ", ")) (export a safetensors directory instead)")
        }
        return architecture
    }

    /// The entries for `config`, named `name`, with `type`'s `general.file_type`. Rope scaling other
    /// than linear, and partial rotary embeddings, are errors naming the config field.
    static func entries(_ config: ModelConfig, architecture: GGUFArchitecture, name: String, type: ExportType,
                        source: String) throws -> [(String, GGUFValue)] {
        let prefix = architecture.name + "."
        func count(_ value: Int) -> GGUFValue { .uint32(UInt32(clamping: value)) }
        var entries: [(String, GGUFValue)] = [
            ("general.architecture", .string(architecture.name)),
            ("general.name", .string(name)),
            (prefix + "block_count", count(config.layers)),
            (prefix + "context_length", count(config.maxPositionEmbeddings)),
            (prefix + "embedding_length", count(config.hiddenSize)),
            (prefix + "feed_forward_length", count(config.intermediateSize)),
            (prefix + "attention.head_count", count(config.heads)),
            (prefix + "attention.head_count_kv", count(config.kvHeads)),
            (prefix + "rope.freq_base", .float32(Float(config.rope.theta))),
            (prefix + "attention.layer_norm_rms_epsilon", .float32(config.rmsNormEps)),
            (prefix + "attention.key_length", count(config.headDim)),
            (prefix + "attention.value_length", count(config.headDim)),
            ("general.file_type", .uint32(type.llamaFileType)),
        ]
        if architecture.name == "llama" {
            entries += [(prefix + "vocab_size", count(config.vocabSize)), (prefix + "rope.dimension_count", count(config.headDim))]
        }
        guard config.rope.partialRotaryFactor == 1 else {
            throw ModelError.invalidConfig(file: source, field: "partial_rotary_factor",
                                           problem: "is \(config.rope.partialRotaryFactor); Fledge exports GGUF with full rotary embeddings only")
        }
        switch config.rope.kind {
        case .default: break
        case .linear:
            entries += [(prefix + "rope.scaling.type", .string("linear")), (prefix + "rope.scaling.factor", .float32(Float(config.rope.factor)))]
        default:
            throw ModelError.invalidConfig(file: source, field: "rope_scaling", problem: "is '\(config.rope.kind.rawValue)'; Fledge exports "
                + "GGUF with default or linear rope scaling only (export a safetensors directory instead)")
        }
        if type.safeTensorsDType == nil { entries.append(("general.quantization_version", .uint32(2))) }
        return entries
    }
}
