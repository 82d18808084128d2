import FledgeLM
import FledgeTensor

/// The SmolLM2-135M-shaped model with random weights that the `fledge bench` commands of generation
/// and training measure, the token ids they feed it and the LoRA adapters they train (the same as the
/// PyTorch scripts in `Scripts/bench/`).
enum SmolLM2Shape {
    /// The shape of SmolLM2-135M (HuggingFaceTB/SmolLM2-135M's config.json).
    static var config: JSONObject { BenchModelShape.smolLM2_135M.config }

    /// LoRA adapters with r 16, lora_alpha 32 and no dropout on every projection of the decoder.
    static let lora = LoRAOptions(r: 16, alpha: 32, dropout: 0, targetModules: [LoRAOptions.allLinear])

    /// A model of `config` with random weights (`BenchModelShape.randomModel`).
    static func randomModel(seed: UInt64 = 1, overriding fields: JSONObject = [:], quantization: BaseQuantization? = nil) throws -> LanguageModel {
        try BenchModelShape.smolLM2_135M.randomModel(seed: seed, overriding: fields, quantization: quantization)
    }

    /// A one-label sequence classifier of the same shape (a reward or value model) with random
    /// weights as `randomModel`'s, drawn from `seed`.
    static func randomClassifier(seed: UInt64) throws -> SequenceClassifier {
        var config = config
        config["architectures"] = ["LlamaForSequenceClassification"]
        config["num_labels"] = 1
        var generator = SeededGenerator(seed: seed)
        var weights: [String: Tensor] = [:]
        for (name, shape) in try PretrainedModel.expectedWeights(configJSON: config) {
            weights[name] = BenchModelShape.randomWeight(name, shape, using: &generator)
        }
        return try SequenceClassifier(configJSON: config, weights: weights)
    }

    /// `rows` sequences of `length` token ids spread over the vocabulary.
    static func tokenIds(rows: Int, length: Int) -> [[Int]] {
        (0..<rows).map { row in (0..<length).map { ($0 * 7919 + row * 104_729 + 17) % 49152 } }
    }
}
