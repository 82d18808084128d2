import FledgeTensor

/// A llama.cpp architecture (`general.architecture`) Fledge reads from GGUF: the Hugging Face
/// model it is, and whether llama.cpp's converter permuted its Q and K rows.
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
    /// fused projections).
    let layerNames: [String: String]

    static let all = [
        GGUFArchitecture(name: "llama", modelType: "llama", causalLM: "LlamaForCausalLM", permutesQueryKeyRows: true),
        GGUFArchitecture(name: "qwen2", modelType: "qwen2", causalLM: "Qwen2ForCausalLM"),
        GGUFArchitecture(name: "qwen3", modelType: "qwen3", causalLM: "Qwen3ForCausalLM"),
        GGUFArchitecture(name: "phi3", modelType: "phi3", causalLM: "Phi3ForCausalLM",
                         layerNames: ["attn_qkv": "self_attn.qkv_proj", "ffn_up": "mlp.gate_up_proj"]),
    ]

    /// The architecture `file` declares; an error naming the key when it is missing or unsupported.
    init(_ file: GGUFFile) throws {
        let name = try file.required("general.architecture", file.string,
                                     hint: "every GGUF model names its architecture there (convert the model again with llama.cpp)")
        guard let known = Self.all.first(where: { $0.name == name }) else {
            throw ModelError.invalidConfig(file: file.url.path, field: "general.architecture", problem: "is '\(name)'; Fledge reads "
                + "GGUF models of architecture \(Self.all.map { "'\($0.name)'" }.joined(separator: ", "))")
        }
        self = known
    }

    private init(name: String, modelType: String, causalLM: String, permutesQueryKeyRows: Bool = false,
                 layerNames: [String: String] = [:]) {
        self.name = name
        self.modelType = modelType
        self.causalLM = causalLM
        self.permutesQueryKeyRows = permutesQueryKeyRows
        self.layerNames = layerNames
    }
}
