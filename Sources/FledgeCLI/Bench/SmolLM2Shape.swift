import FledgeLM
import FledgeTensor

/// The SmolLM2-135M-shaped model with random weights that the `fledge bench` commands of generation
/// and training measure, the token ids they feed it and the LoRA adapters they train (the same as the
/// PyTorch scripts in `Scripts/bench/`).
enum SmolLM2Shape {
    /// The shape of SmolLM2-135M (HuggingFaceTB/SmolLM2-135M's config.json).
    static let config: JSONObject = [
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 49152, "hidden_size": 576,
        "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true,
        "hidden_act": "silu",
    ]

    /// LoRA adapters with r 16, lora_alpha 32 and no dropout on every projection of the decoder.
    static let lora = LoRAOptions(r: 16, alpha: 32, dropout: 0, targetModules: [LoRAOptions.allLinear])

    /// A model of `config` with norm weights 1 and every other weight uniform in ±0.05 (drawn from
    /// `seed`); `fields` replace or add config.json fields (a pad token).
    static func randomModel(seed: UInt64 = 1, overriding fields: JSONObject = [:]) throws -> LanguageModel {
        var config = config
        for (field, value) in fields.entries { config[field] = value }
        return try LanguageModel(configJSON: config, weights: randomWeights(config, seed: seed))
    }

    /// A one-label sequence classifier of the same shape (a reward or value model), drawn from `seed`.
    static func randomClassifier(seed: UInt64) throws -> SequenceClassifier {
        var config = config
        config["architectures"] = ["LlamaForSequenceClassification"]
        config["num_labels"] = 1
        return try SequenceClassifier(configJSON: config, weights: randomWeights(config, seed: seed))
    }

    /// Every weight `config` needs: norm weights 1, the others uniform in ±0.05 drawn from `seed`.
    private static func randomWeights(_ config: JSONObject, seed: UInt64) throws -> [String: Tensor] {
        var generator = SeededGenerator(seed: seed)
        var weights: [String: Tensor] = [:]
        for (name, shape) in try PretrainedModel.expectedWeights(configJSON: config) {
            weights[name] = name.hasSuffix("norm.weight")
                ? Tensor.ones(shape) : Tensor.uniform(shape, in: -0.05..<0.05, using: &generator)
        }
        return weights
    }

    /// `rows` sequences of `length` token ids spread over the vocabulary.
    static func tokenIds(rows: Int, length: Int) -> [[Int]] {
        (0..<rows).map { row in (0..<length).map { ($0 * 7919 + row * 104_729 + 17) % 49152 } }
    }
}
