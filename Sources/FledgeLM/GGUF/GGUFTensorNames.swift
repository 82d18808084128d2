/// llama.cpp's tensor names (`blk.3.attn_q.weight`) and the Hugging Face names Fledge's models
/// use (`model.layers.3.self_attn.q_proj.weight`), for the architectures of `GGUFArchitecture`.
enum GGUFTensorNames {
    private static let global = [
        "token_embd": "model.embed_tokens",
        "output_norm": "model.norm",
        "output": "lm_head",
    ]

    private static let layer = [
        "attn_norm": "input_layernorm",
        "attn_q": "self_attn.q_proj",
        "attn_k": "self_attn.k_proj",
        "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj",
        "attn_q_norm": "self_attn.q_norm",
        "attn_k_norm": "self_attn.k_norm",
        "ffn_norm": "post_attention_layernorm",
        "ffn_gate": "mlp.gate_proj",
        "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj",
    ]

    /// The Hugging Face name of `name` in `architecture`, or nil for a tensor it does not have.
    static func huggingFaceName(_ name: String, architecture: GGUFArchitecture) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let suffix = parts.last, suffix == "weight" || suffix == "bias" else { return nil }
        if parts.count == 2, let mapped = global[parts[0]] { return "\(mapped).\(suffix)" }
        guard parts.count == 4, parts[0] == "blk", let index = Int(parts[1]), index >= 0, String(index) == parts[1],
              let mapped = architecture.layerNames[parts[2]] ?? layer[parts[2]] else { return nil }
        return "model.layers.\(index).\(mapped).\(suffix)"
    }

    /// The llama.cpp name of the Hugging Face tensor `name` in `architecture` (the inverse of
    /// `huggingFaceName`, over the same tables), or nil for a tensor llama.cpp does not name.
    static func ggufName(_ name: String, architecture: GGUFArchitecture) -> String? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let suffix = parts.last, suffix == "weight" || suffix == "bias" else { return nil }
        let module = parts.dropLast().joined(separator: ".")
        if let mapped = global.first(where: { $0.value == module })?.key { return "\(mapped).\(suffix)" }
        guard parts.count > 4, parts[0] == "model", parts[1] == "layers", let index = Int(parts[2]), String(index) == parts[2] else {
            return nil
        }
        let layerModule = parts[3..<(parts.count - 1)].joined(separator: ".")
        // The architecture's own names first: OLMo 2's `post_attention_layernorm` is `post_attention_norm`, not `ffn_norm`.
        guard let mapped = architecture.layerNames.first(where: { $0.value == layerModule })?.key
            ?? layer.first(where: { $0.value == layerModule && architecture.layerNames[$0.key] == nil })?.key else { return nil }
        return "blk.\(index).\(mapped).\(suffix)"
    }

    /// Whether `name` (a llama.cpp name) is a query or key projection's weight or bias, whose rows
    /// a `llama` conversion permuted (convert_hf_to_gguf.py permutes `q_proj.weight` and `q_proj.bias`).
    static func isQueryOrKeyProjection(_ name: String) -> (query: Bool, key: Bool) {
        (name.hasSuffix(".attn_q.weight") || name.hasSuffix(".attn_q.bias"), name.hasSuffix(".attn_k.weight") || name.hasSuffix(".attn_k.bias"))
    }

    /// Phi-3's LongRoPE factor tensors, read into the config (`rope_scaling`), not as weights.
    static let ropeFactors = ["rope_factors_long.weight", "rope_factors_short.weight"]

    /// Whether `name` (a llama.cpp name) is a norm's weight, which Gemma's converter shifted by 1.
    static func isNormWeight(_ name: String) -> Bool { name.hasSuffix("norm.weight") }

    /// Whether `info` is a matrix of a decoder layer (`blk.N.*.weight` with two dimensions): in the
    /// architectures of `GGUFArchitecture`, a linear layer's weight (norms are vectors).
    static func isLayerMatrix(_ info: GGUFTensorInfo) -> Bool {
        info.name.hasPrefix("blk.") && info.name.hasSuffix(".weight") && info.dimensions.count == 2
    }
}
