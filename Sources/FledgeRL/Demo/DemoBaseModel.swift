import Foundation
import FledgeLM
import FledgeTensor

/// The demo's base model: a tiny Llama with a character tokenizer, created with random weights
/// and then taught the arithmetic task by supervised fine-tuning (`fledge sft` on the files written
/// here), imperfectly, so that RL has something to improve. `examples/demo/README.md` gives the
/// commands that rebuild the shipped model from scratch.
public enum DemoBaseModel {
    /// config.json of the model: 3 layers, hidden 128, 4 heads sharing 2 KV heads, tied embeddings.
    public static var configJSON: JSONObject {
        [
            "model_type": "llama", "architectures": ["LlamaForCausalLM"],
            "vocab_size": .int(ArithmeticTask.alphabet.count + 2), "hidden_size": 128, "intermediate_size": 352,
            "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
            "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": true, "hidden_act": "silu",
            "bos_token_id": nil, "eos_token_id": .int(CharacterTokenizerFile.eosId), "pad_token_id": .int(CharacterTokenizerFile.padId),
            "torch_dtype": "float32",
        ]
    }

    /// The seed of the train/held-out split every demo step uses.
    public static let splitSeed: UInt64 = 2026

    /// Writes a model directory with random weights (normal-like, std 0.02, as transformers
    /// initialises Llama; norms at 1) and the character tokenizer into `directory`.
    public static func writeInitialModel(to directory: URL, seed: UInt64) throws {
        try writeInitialModel(configJSON: configJSON, to: directory, seed: seed)
        try CharacterTokenizerFile.write(alphabet: ArithmeticTask.alphabet, to: directory)
    }

    /// Writes the model of `configJSON` with random weights (as above) into `directory`, without a tokenizer.
    static func writeInitialModel(configJSON: JSONObject, to directory: URL, seed: UInt64) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: seed)
        var weights: [String: Tensor] = [:]
        let bound = Float(0.02 * 3.0.squareRoot())  // uniform(−b, b) has standard deviation b/√3
        for (name, shape) in try LanguageModel.expectedWeights(configJSON: configJSON) {
            weights[name] = name.hasSuffix("norm.weight") ? Tensor.ones(shape) : Tensor.uniform(shape, in: -bound..<bound, using: &generator)
        }
        let model = try LanguageModel(configJSON: configJSON, weights: weights)
        try model.saveModel(to: directory)
    }

    /// The share of SFT answers that are wrong on purpose.
    public static let noisyAnswerShare = 0.25

    /// Writes the SFT training set (`prompt`/`completion` rows) of the split to `file`. Like most
    /// real data it is noisy: about a third of the answers are off by 1 to 10 (drawn with `seed`),
    /// so the model learns to put only part of its probability on the right sum — the room RL has
    /// to improve, since a correctness reward teaches it which of its answers to keep.
    public static func writeTrainingData(to file: URL, examples: Int, seed: UInt64 = 7) throws {
        let split = ArithmeticTask().split(seed: splitSeed, train: examples, heldOut: GRPODemo.heldOutCount)
        var generator = SeededGenerator(seed: seed)
        let lines = split.train.map { problem in
            var answer = Int(problem.answer)!
            if Double(generator.nextUnitFloat()) < noisyAnswerShare {
                let offset = Int.random(in: 1...10, using: &generator)
                answer = Bool.random(using: &generator) || answer < offset ? answer + offset : answer - offset
            }
            return "{\"prompt\": \"\(problem.prompt)\", \"completion\": \"\(answer)\"}"
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: file)
    }
}

