import FledgeTensor

/// The config.json object a GGUF file's metadata describes, as transformers' GGUF loader builds
/// it: `{arch}.embedding_length` → `hidden_size`, `{arch}.block_count` → `num_hidden_layers`, … ;
/// `tie_word_embeddings` when the file has no `output.weight`; the special token ids from
/// `tokenizer.ggml.*`. Errors name the file and the GGUF key.
enum GGUFModelConfig {
    static func configJSON(_ file: GGUFFile, architecture: GGUFArchitecture) throws -> JSONObject {
        let prefix = architecture.name + "."
        func positive(_ key: String, hint: String) throws -> Int {
            let value = try file.required(prefix + key, file.integer, hint: hint)
            guard value > 0 else {
                throw ModelError.invalidConfig(file: file.url.path, field: prefix + key, problem: "must be positive, got \(value)")
            }
            return value
        }
        let needed = "llama.cpp's converter writes it; convert the model again"
        let hidden = try positive("embedding_length", hint: needed)
        let heads = try positive("attention.head_count", hint: needed)
        let layers = try positive("block_count", hint: needed)
        // Every layer has tensors: a count beyond them is a damaged file (and per-layer lists would be huge).
        guard layers <= file.tensorInfos.count else {
            throw ModelError.invalidConfig(file: file.url.path, field: prefix + "block_count",
                                           problem: "is \(layers), more than the file's \(file.tensorInfos.count) tensors")
        }
        var config = JSONObject([
            ("model_type", .string(architecture.modelType)),
            ("architectures", .array([.string(architecture.causalLM)])),
            ("hidden_size", .int(hidden)),
            ("num_hidden_layers", .int(layers)),
            ("intermediate_size", .int(try positive("feed_forward_length", hint: needed))),
            ("num_attention_heads", .int(heads)),
            ("num_key_value_heads", .int(try keyValueHeads(file, key: prefix + "attention.head_count_kv", default: heads))),
            ("rms_norm_eps", .double(try file.required(prefix + "attention.layer_norm_rms_epsilon", file.number, hint: needed))),
            ("rope_theta", .double(try file.number(prefix + "rope.freq_base") ?? 10_000)),
            ("max_position_embeddings", .int(try file.integer(prefix + "context_length") ?? 2048)),
            ("tie_word_embeddings", .bool(file.info("output.weight") == nil)),
            ("vocab_size", .int(try vocabularySize(file, key: prefix + "vocab_size"))),
        ])
        let (activationField, activation) = GGUFFamilyConfig.activation(architecture)
        config[activationField] = activation
        // llama.cpp sizes heads by `attention.key_length` when present (else hidden / heads);
        // transformers reads `rope.dimension_count` for llama.
        // Phi-3's rope.dimension_count is the rotated part of each head (partial_rotary_factor).
        let phi3 = architecture.name == "phi3"
        let headDim = try file.integer(prefix + "attention.key_length") ?? (phi3 ? hidden / heads : file.integer(prefix + "rope.dimension_count"))
        if let headDim { config["head_dim"] = .int(headDim) }
        if phi3, let headDim, let rotated = try file.integer(prefix + "rope.dimension_count"), rotated != headDim {
            config["partial_rotary_factor"] = .double(Double(rotated) / Double(headDim))
        }
        if let scaling = try ropeScaling(file, prefix: prefix, architecture: architecture,
                                         rotatedDims: try file.integer(prefix + "rope.dimension_count") ?? headDim ?? hidden / heads) {
            config["rope_scaling"] = scaling
        }
        let hasBias = { (name: String) in file.info("blk.0.\(name).bias") != nil }
        if !["qwen2", "phi3"].contains(architecture.name) { config["attention_bias"] = .bool(hasBias("attn_q")) }
        if ["llama", "smollm3"].contains(architecture.name) { config["mlp_bias"] = .bool(hasBias("ffn_gate")) }
        for (field, value) in try GGUFFamilyConfig.fields(file, architecture: architecture, layers: layers, hidden: hidden, heads: heads,
                                                          headDim: headDim ?? hidden / heads) {
            config[field] = value
        }
        for (key, field) in [("bos_token_id", "bos_token_id"), ("eos_token_id", "eos_token_id"), ("padding_token_id", "pad_token_id")] {
            if let id = try file.integer("tokenizer.ggml." + key) { config[field] = .int(id) }
        }
        return config
    }

    /// `attention.head_count_kv`, which llama.cpp may store per layer; Fledge needs one count.
    private static func keyValueHeads(_ file: GGUFFile, key: String, default heads: Int) throws -> Int {
        if case .array = file.metadata[key] {
            let counts = try file.integers(key) ?? []
            guard let first = counts.first, counts.allSatisfy({ $0 == first }) else {
                throw ModelError.invalidConfig(file: file.url.path, field: key,
                                               problem: "differs between layers (\(counts.prefix(8))…); Fledge needs one count for all layers")
            }
            return first
        }
        return try file.integer(key) ?? heads
    }

    /// `{arch}.vocab_size`, else the number of `tokenizer.ggml.tokens`, else the embedding's rows.
    private static func vocabularySize(_ file: GGUFFile, key: String) throws -> Int {
        if let size = try file.integer(key) { return size }
        if case .array(_, let tokens) = file.metadata["tokenizer.ggml.tokens"] { return tokens.count }
        guard let embedding = file.info("token_embd.weight") else {
            throw ModelError.invalidFile(path: file.url.path, problem: "has no tensor 'token_embd.weight' (the token embedding)")
        }
        return embedding.shape[0]
    }

    /// `rope_scaling` from `{arch}.rope.scaling.*` (linear only), Llama 3's from `rope_freqs`
    /// (`GGUFLlama3Rope`, for `llama` and `smollm3`, whose converter writes it), or Phi-3's LongRoPE
    /// from its factor tensors.
    private static func ropeScaling(_ file: GGUFFile, prefix: String, architecture: GGUFArchitecture,
                                    rotatedDims: Int) throws -> JSONValue? {
        if file.info(GGUFLlama3Rope.tensorName) != nil {
            guard architecture.permutesQueryKeyRows else {
                throw ModelError.invalidFile(path: file.url.path, problem: "has tensor '\(GGUFLlama3Rope.tensorName)', which Fledge reads for "
                    + "architectures 'llama' and 'smollm3' only")
            }
            let divisors = try file.tensor(GGUFLlama3Rope.tensorName).toArray()
            return try GGUFLlama3Rope.scaling(divisors: divisors, theta: try file.number(prefix + "rope.freq_base") ?? 10_000,
                                              dim: rotatedDims, file: file.url.path)
        }
        if GGUFTensorNames.ropeFactors.contains(where: { file.info($0) != nil }) {
            guard architecture.name == "phi3" else {
                throw ModelError.invalidFile(path: file.url.path, problem: "has rope factor tensors, which Fledge reads for architecture 'phi3' only")
            }
            return try longRope(file, prefix: prefix)
        }
        guard let type = try file.string(prefix + "rope.scaling.type"), type != "none" else { return nil }
        guard type == "linear" else {
            throw ModelError.invalidConfig(file: file.url.path, field: prefix + "rope.scaling.type",
                                           problem: "is '\(type)'; Fledge reads 'linear' and 'none' from GGUF")
        }
        let factor = try file.required(prefix + "rope.scaling.factor", file.number, hint: "linear rope scaling needs its factor")
        return .object(JSONObject([("rope_type", .string("linear")), ("factor", .double(factor))]))
    }

    /// Phi-3's LongRoPE as convert_hf_to_gguf.py writes it: `rope_factors_long` and
    /// `rope_factors_short` (one divisor per rotated pair), `rope.scaling.original_context_length`
    /// and `rope.scaling.attn_factor` (transformers' default when absent).
    private static func longRope(_ file: GGUFFile, prefix: String) throws -> JSONValue {
        var entries: [(String, JSONValue)] = [("rope_type", .string("longrope"))]
        for (name, field) in zip(GGUFTensorNames.ropeFactors, ["long_factor", "short_factor"]) {
            guard file.info(name) != nil else {
                throw ModelError.invalidFile(path: file.url.path, problem: "has no tensor '\(name)'; LongRoPE needs both factor tensors")
            }
            entries.append((field, .array(try file.tensor(name).toArray().map { .double(Double($0)) })))
        }
        let original = try file.required(prefix + "rope.scaling.original_context_length", file.integer,
                                         hint: "LongRoPE needs the context length its short factors are for")
        entries.append(("original_max_position_embeddings", .int(original)))
        if let factor = try file.number(prefix + "rope.scaling.attn_factor") { entries.append(("attention_factor", .double(factor))) }
        return .object(JSONObject(entries))
    }
}

extension GGUFFile {
    /// The config.json object this file's metadata describes (``GGUFModelConfig``), as loading the file
    /// as a model builds it; throws naming the GGUF key when the architecture is not one Fledge reads or
    /// a value is missing or out of range.
    public func modelConfigJSON() throws -> JSONObject {
        try GGUFModelConfig.configJSON(self, architecture: GGUFArchitecture(self))
    }
}
