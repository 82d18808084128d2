import FledgeTensor

/// A llama.cpp architecture (`general.architecture`) Fledge reads from GGUF: the Hugging Face
/// model it is, and what llama.cpp's converter (convert_hf_to_gguf.py) did to its tensors.
struct GGUFArchitecture: Sendable {
    /// `general.architecture`, also the prefix of the architecture's metadata keys.
    let name: String
    /// config.json's `model_type`.
    let modelType: String
    /// config.json's `architectures` entry.
    let causalLM: String
    /// Whether convert_hf_to_gguf.py interleaved the two rotary halves of each head's Q and K rows
    /// (`LlamaModel.permute`, for llama.cpp's non-NeoX rope), which loading undoes.
    let permutesQueryKeyRows: Bool
    /// llama.cpp layer tensor names whose Hugging Face name differs from `GGUFTensorNames`' (Phi-3's
    /// fused projections, the sandwich and post norms of Gemma and OLMo 2); they take precedence.
    let layerNames: [String: String]
    /// What the converter added to every norm weight (`*norm.weight`): 1 for Gemma, whose
    /// RMSNorms scale by `1 + w` in transformers and by the stored weight in llama.cpp. Loading
    /// subtracts it, as transformers' GGUF loader does; exporting adds it.
    let normWeightShift: Float

    private static let gemmaNorms = ["post_attention_norm": "post_attention_layernorm", "ffn_norm": "pre_feedforward_layernorm",
                                     "post_ffw_norm": "post_feedforward_layernorm"]

    static let all = [
        GGUFArchitecture(name: "llama", modelType: "llama", causalLM: "LlamaForCausalLM", permutesQueryKeyRows: true),
        GGUFArchitecture(name: "qwen2", modelType: "qwen2", causalLM: "Qwen2ForCausalLM"),
        GGUFArchitecture(name: "qwen3", modelType: "qwen3", causalLM: "Qwen3ForCausalLM"),
        GGUFArchitecture(name: "phi3", modelType: "phi3", causalLM: "Phi3ForCausalLM",
                         layerNames: ["attn_qkv": "self_attn.qkv_proj", "ffn_up": "mlp.gate_up_proj"]),
        GGUFArchitecture(name: "gemma2", modelType: "gemma2", causalLM: "Gemma2ForCausalLM", layerNames: gemmaNorms, normWeightShift: 1),
        GGUFArchitecture(name: "gemma3", modelType: "gemma3_text", causalLM: "Gemma3ForCausalLM", layerNames: gemmaNorms,
                         normWeightShift: 1),
        GGUFArchitecture(name: "olmo2", modelType: "olmo2", causalLM: "Olmo2ForCausalLM",
                         layerNames: ["post_attention_norm": "post_attention_layernorm", "post_ffw_norm": "post_feedforward_layernorm"]),
        GGUFArchitecture(name: "smollm3", modelType: "smollm3", causalLM: "SmolLM3ForCausalLM", permutesQueryKeyRows: true),
    ]

    /// The `general.architecture` values Fledge reads, for error messages.
    static var supportedNames: String { all.map { "'\($0.name)'" }.joined(separator: ", ") }

    /// The architecture `file` declares; an error naming the key when it is missing or unsupported.
    init(_ file: GGUFFile) throws {
        let name = try file.required("general.architecture", file.string,
                                     hint: "every GGUF model names its architecture there (convert the model again with llama.cpp)")
        guard let known = Self.all.first(where: { $0.name == name }) else {
            throw ModelError.invalidConfig(file: file.url.path, field: "general.architecture",
                                           problem: "is '\(name)'; Fledge reads GGUF models of architecture \(Self.supportedNames)")
        }
        self = known
    }

    private init(name: String, modelType: String, causalLM: String, permutesQueryKeyRows: Bool = false,
                 layerNames: [String: String] = [:], normWeightShift: Float = 0) {
        self.name = name
        self.modelType = modelType
        self.causalLM = causalLM
        self.permutesQueryKeyRows = permutesQueryKeyRows
        self.layerNames = layerNames
        self.normWeightShift = normWeightShift
    }
}
