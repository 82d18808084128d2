import FledgeTensor

/// The `general.*` and architecture metadata llama.cpp reads for a model, with the keys and types
/// convert_hf_to_gguf.py writes (`TextModel.set_gguf_parameters` and `LlamaModel`'s additions).
enum GGUFModelMetadata {
    /// The llama.cpp architecture of `config` (every architecture Fledge reads); an error naming
    /// `model_type` for one llama.cpp does not name (Mistral's is `llama` in llama.cpp, but
    /// Fledge's Mistral has sliding windows llama.cpp's `llama` lacks).
    static func architecture(_ config: ModelConfig, source: String) throws -> GGUFArchitecture {
        guard let architecture = GGUFArchitecture.all.first(where: { $0.modelType == config.modelType }) else {
            throw ModelError.invalidConfig(file: source, field: "model_type", problem: "is '\(config.modelType)'; Fledge exports "
                + "GGUF files of model types \(GGUFArchitecture.all.map(\.modelType).joined(separator: ", ")) (export a safetensors directory instead)")
        }
        return architecture
    }

    /// The entries for `config` (whose config.json `reader` reads), named `name`, with `type`'s
    /// `general.file_type`, and the family's (`GGUFFamilyMetadata`). Rope scaling other than
    /// linear (and Phi-3's LongRoPE), and partial rotary embeddings outside Phi-3, are errors naming
    /// the config field.
    static func entries(_ config: ModelConfig, reader: ConfigReader, architecture: GGUFArchitecture, name: String, type: ExportType,
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
        let phi3 = architecture.name == "phi3"
        guard config.rope.partialRotaryFactor == 1 || phi3 else {
            throw ModelError.invalidConfig(file: source, field: "partial_rotary_factor",
                                           problem: "is \(config.rope.partialRotaryFactor); Fledge exports GGUF with full rotary embeddings only")
        }
        switch config.rope.kind {
        case .default: break
        case .longrope where phi3: break  // GGUFFamilyMetadata: factor tensors and attention factor
        case .llama3 where architecture.permutesQueryKeyRows: break  // GGUFFamilyMetadata: rope_freqs, as LlamaModel writes it
        case .linear:
            entries += [(prefix + "rope.scaling.type", .string("linear")), (prefix + "rope.scaling.factor", .float32(Float(config.rope.factor)))]
        default:
            throw ModelError.invalidConfig(file: source, field: "rope_scaling", problem: "is '\(config.rope.kind.rawValue)'; Fledge exports "
                + "GGUF with default, linear or llama3 rope scaling (and Phi-3's longrope) only (export a safetensors directory instead)")
        }
        if type.safeTensorsDType == nil { entries.append(("general.quantization_version", .uint32(2))) }
        return entries + (try GGUFFamilyMetadata.entries(reader, config: config, architecture: architecture))
    }
}
