import FledgeLM
import FledgeTensor

/// The SmolLM2-135M-shaped model with random weights that `fledge bench generate` and
/// `fledge bench train` measure, and the token ids they feed it (the same as the PyTorch
/// scripts in `Scripts/bench/`).
enum SmolLM2Shape {
    /// The shape of SmolLM2-135M (HuggingFaceTB/SmolLM2-135M's config.json).
    nonisolated(unsafe) static let config: [String: Any] = [
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 49152, "hidden_size": 576,
        "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true,
        "hidden_act": "silu",
    ]

    /// A model of `config` with norm weights 1 and every other weight uniform in ±0.05.
    static func randomModel() throws -> LanguageModel {
        var generator = SeededGenerator(seed: 1)
        var weights: [String: Tensor] = [:]
        for (name, shape) in try LanguageModel.expectedWeights(configJSON: config) {
            weights[name] = name.hasSuffix("norm.weight")
                ? Tensor.ones(shape) : Tensor.uniform(shape, in: -0.05..<0.05, using: &generator)
        }
        return try LanguageModel(configJSON: config, weights: weights)
    }

    /// `rows` sequences of `length` token ids spread over the vocabulary.
    static func tokenIds(rows: Int, length: Int) -> [[Int]] {
        (0..<rows).map { row in (0..<length).map { ($0 * 7919 + row * 104_729 + 17) % 49152 } }
    }
}
