import FledgeTensor

/// The config.json fields of the GGUF architectures whose layers differ from Llama's (Gemma 2,
/// Gemma 3, OLMo 2, SmolLM3), as llama.cpp reads them (`llama_model_<arch>::load_arch_hparams`):
/// where llama.cpp fixes a value the converter does not write (Gemma's attention scale, the
/// sliding-window pattern, SmolLM3's NoPE layers), Fledge takes llama.cpp's value, so that a file
/// runs as llama.cpp runs it. Errors name the file and the GGUF key.
enum GGUFFamilyConfig {
    /// The MLP activation entry of config.json for `architecture`.
    static func activation(_ architecture: GGUFArchitecture) -> (String, JSONValue) {
        architecture.normWeightShift != 0 ? ("hidden_activation", .string("gelu_pytorch_tanh")) : ("hidden_act", .string("silu"))
    }

    /// The family's own fields for a model of `layers` layers, `hidden` wide, `heads` heads of `headDim`.
    static func fields(_ file: GGUFFile, architecture: GGUFArchitecture, layers: Int, hidden: Int, heads: Int,
                       headDim: Int) throws -> [(String, JSONValue)] {
        let prefix = architecture.name + "."
        switch architecture.name {
        case "gemma2":
            // llama.cpp: a 4096 window on every other layer, the first included; soft caps 50 and 30
            // unless the file says otherwise; the local layers' rope the same as the global ones'.
            if let local = try file.number(prefix + "rope.freq_base_swa"),
               local != (try file.number(prefix + "rope.freq_base") ?? 10_000) {
                throw ModelError.invalidConfig(file: file.url.path, field: prefix + "rope.freq_base_swa",
                                               problem: "is \(local), unlike rope.freq_base; Fledge's Gemma 2 has one rope for all layers")
            }
            let window = try positive(file, prefix + "attention.sliding_window") ?? 4096
            return [
                ("query_pre_attn_scalar", .double(attentionScalar(layers: layers, largest: 46, hidden: hidden, heads: heads, headDim: headDim))),
                ("attn_logit_softcapping", try softCap(file, prefix + "attn_logit_softcapping", default: 50)),
                ("final_logit_softcapping", try softCap(file, prefix + "final_logit_softcapping", default: 30)),
                ("sliding_window", .int(window)),
                ("layer_types", try layerTypes(file, key: prefix + "attention.sliding_window_pattern", layers: layers, pattern: 2)),
            ]
        case "gemma3":
            // llama.cpp: with a sliding window, every 6th layer global; local layers rotate with
            // rope.freq_base_swa (default 10000) and no scaling; no attention soft cap.
            var fields: [(String, JSONValue)] = [
                ("query_pre_attn_scalar", .double(attentionScalar(layers: layers, largest: 62, hidden: hidden, heads: heads, headDim: headDim))),
                ("attn_logit_softcapping", .null),
                ("final_logit_softcapping", try softCap(file, prefix + "final_logit_softcapping", default: nil)),
                ("rope_local_base_freq", .double(try file.number(prefix + "rope.freq_base_swa") ?? 10_000)),
            ]
            if let window = try positive(file, prefix + "attention.sliding_window") {
                fields += [("sliding_window", .int(window)),
                           ("layer_types", try layerTypes(file, key: prefix + "attention.sliding_window_pattern", layers: layers, pattern: 6))]
            } else {
                fields.append(("layer_types", .array(Array(repeating: .string("full_attention"), count: layers))))
            }
            return fields
        case "olmo2":
            if file.metadata[prefix + "attention.sliding_window"] != nil {
                throw ModelError.invalidConfig(file: file.url.path, field: prefix + "attention.sliding_window",
                                               problem: "is set (an OLMo 3 model); Fledge reads OLMo 2, which has no sliding window")
            }
            return []
        case "smollm3":
            // llama.cpp leaves out the rotary embedding on every 4th layer (n_no_rope_layer_step).
            return [("no_rope_layers", .array((0..<layers).map { .int(($0 + 1) % 4 == 0 ? 0 : 1) }))]
        default:
            return []
        }
    }

    /// `query_pre_attn_scalar` as llama.cpp scales Gemma's queries: by head_dim^-½, or for the
    /// largest model (27B, identified by its layer count as llama.cpp does) by (hidden / heads)^-½.
    private static func attentionScalar(layers: Int, largest: Int, hidden: Int, heads: Int, headDim: Int) -> Double {
        Double(layers == largest ? hidden / heads : headDim)
    }

    /// A soft cap: the key's value, else `value`; 0 (or none) is no cap (null).
    private static func softCap(_ file: GGUFFile, _ key: String, default value: Double?) throws -> JSONValue {
        guard let cap = try file.number(key) ?? value, cap != 0 else { return .null }
        guard cap > 0, cap.isFinite else {
            throw ModelError.invalidConfig(file: file.url.path, field: key, problem: "must be positive (0: no cap), got \(cap)")
        }
        return .double(cap)
    }

    /// A positive integer at `key`, nil when absent or 0.
    private static func positive(_ file: GGUFFile, _ key: String) throws -> Int? {
        guard let value = try file.integer(key), value != 0 else { return nil }
        guard value > 0 else { throw ModelError.invalidConfig(file: file.url.path, field: key, problem: "must be positive, got \(value)") }
        return value
    }

    /// `layer_types` from `attention.sliding_window_pattern`: one bool per layer (true: sliding),
    /// or a period `n` (layer `i` slides unless `i % n == n - 1`; 0: every layer slides), as
    /// llama.cpp's `set_swa_pattern`; `pattern` when the key is absent.
    private static func layerTypes(_ file: GGUFFile, key: String, layers: Int, pattern: Int) throws -> JSONValue {
        let sliding: [Bool]
        if case .array(let element, let values)? = file.metadata[key] {
            guard element == .bool, values.count == layers else {
                throw ModelError.invalidConfig(file: file.url.path, field: key,
                                               problem: "must be one bool per layer (\(layers)), got \(values.count) of \(element)")
            }
            sliding = values.map { if case .bool(let flag) = $0 { flag } else { false } }
        } else {
            let period = try file.integer(key) ?? pattern
            guard period >= 0 else { throw ModelError.invalidConfig(file: file.url.path, field: key, problem: "must not be negative, got \(period)") }
            sliding = (0..<layers).map { period == 0 || $0 % period < period - 1 }
        }
        return .array(sliding.map { .string($0 ? "sliding_attention" : "full_attention") })
    }
}
