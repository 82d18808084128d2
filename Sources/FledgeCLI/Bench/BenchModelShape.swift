import ArgumentParser
import FledgeLM
import FledgeTensor

/// The model shapes `fledge bench` builds with random weights (`--shape`): SmolLM2-135M, which every
/// benchmark measures beside its PyTorch script, and the Qwen2.5 shapes whose memory a quantized
/// base is measured on (docs/quantization.md).
enum BenchModelShape: String, ExpressibleByArgument, CaseIterable {
    case smolLM2_135M = "smollm2-135m"
    case qwen2_5_1_5B = "qwen2.5-1.5b"
    case qwen2_5_7B = "qwen2.5-7b"

    /// The shape's config.json (that of HuggingFaceTB/SmolLM2-135M, Qwen/Qwen2.5-1.5B and Qwen/Qwen2.5-7B).
    var config: JSONObject {
        switch self {
        case .smolLM2_135M:
            [
                "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 49152, "hidden_size": 576,
                "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
                "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true,
                "hidden_act": "silu",
            ]
        case .qwen2_5_1_5B:
            Self.qwen2(vocabulary: 151_936, hidden: 1536, intermediate: 8960, heads: 12, kvHeads: 2, tied: true)
        case .qwen2_5_7B:
            Self.qwen2(vocabulary: 152_064, hidden: 3584, intermediate: 18944, heads: 28, kvHeads: 4, tied: false)
        }
    }

    private static func qwen2(vocabulary: Int, hidden: Int, intermediate: Int, heads: Int, kvHeads: Int, tied: Bool) -> JSONObject {
        [
            "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": .int(vocabulary), "hidden_size": .int(hidden),
            "intermediate_size": .int(intermediate), "num_hidden_layers": 28, "num_attention_heads": .int(heads),
            "num_key_value_heads": .int(kvHeads), "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
            "tie_word_embeddings": .bool(tied), "hidden_act": "silu",
        ]
    }

    /// The vocabulary size of `config`.
    var vocabularySize: Int {
        if case .int(let size) = config["vocab_size"] { return size }
        preconditionFailure("a bench shape's config has an integer vocab_size")
    }

    /// A model of this shape with norm weights 1 and every other weight uniform in ±0.05 (drawn from
    /// `seed`, one weight after another); `fields` replace or add config.json fields (a pad token).
    /// With `quantization`, each decoder linear weight is quantized as soon as it is drawn, so the
    /// float copy of the whole base never exists.
    func randomModel(seed: UInt64 = 1, overriding fields: JSONObject = [:], quantization: BaseQuantization? = nil) throws -> LanguageModel {
        var config = config
        for (field, value) in fields.entries { config[field] = value }
        var generator = SeededGenerator(seed: seed)
        return try LanguageModel(configJSON: config, quantization: quantization) { name, shape in
            Self.randomWeight(name, shape, using: &generator)
        }
    }

    /// Norm weights 1, the others uniform in ±0.05.
    static func randomWeight(_ name: String, _ shape: [Int], using generator: inout SeededGenerator) -> Tensor {
        name.hasSuffix("norm.weight") ? Tensor.ones(shape) : Tensor.uniform(shape, in: -0.05..<0.05, using: &generator)
    }
}
