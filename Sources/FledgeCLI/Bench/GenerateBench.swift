import ArgumentParser
import Foundation
import FledgeLM
import FledgeTensor

/// `fledge bench generate`: tokens per second of batched sampling with a KV cache on a
/// SmolLM2-135M-shaped model with random weights, beside `Scripts/bench/hf_generate.py`
/// (transformers' `generate` on the same shapes and settings).
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "New tokens per second of batched generation (KV cache, EOS ignored).")

    @Flag(help: "One JSON line per batch size.") var json = false
    @Option(help: "Batch sizes, comma-separated.") var batches = "1,8"
    @Option(help: "Prompt tokens per sequence.") var promptTokens = 32
    @Option(help: "New tokens per sequence.") var newTokens = 128
    @Option(help: "Timed runs per batch size (the fastest is reported), after one warm-up run.") var runs = 3

    /// The shape of SmolLM2-135M (HuggingFaceTB/SmolLM2-135M's config.json).
    nonisolated(unsafe) static let config: [String: Any] = [
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 49152, "hidden_size": 576,
        "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "tie_word_embeddings": true,
        "hidden_act": "silu",
    ]

    func run() throws {
        var generator = SeededGenerator(seed: 1)
        var weights: [String: Tensor] = [:]
        for (name, shape) in try LanguageModel.expectedWeights(configJSON: Self.config) {
            weights[name] = name.hasSuffix("norm.weight")
                ? Tensor.ones(shape) : Tensor.uniform(shape, in: -0.05..<0.05, using: &generator)
        }
        let model = try LanguageModel(configJSON: Self.config, weights: weights)
        var options = SamplingOptions()
        options.maxNewTokens = newTokens
        options.ignoreEOS = true
        options.temperature = 1
        options.topK = 0
        for batch in batches.split(separator: ",").compactMap({ Int($0) }) {
            let prompts = (0..<batch).map { row in (0..<promptTokens).map { ($0 * 7919 + row * 104_729 + 17) % 49152 } }
            var best = Double.infinity
            for run in 0...runs {
                let start = DispatchTime.now().uptimeNanoseconds
                let out = model.generate(prompts, options: options)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                precondition(out.allSatisfy { $0.ids.count == newTokens })
                if run > 0 { best = min(best, seconds) }
            }
            let rate = Double(batch * newTokens) / best
            report(["batch": batch, "new_tokens": newTokens, "tokens_per_second": (rate * 10).rounded() / 10], json: json)
        }
    }
}
