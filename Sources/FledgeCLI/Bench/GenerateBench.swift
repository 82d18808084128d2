import ArgumentParser
import Foundation
import FledgeLM
import FledgeTensor

/// `fledge bench generate`: tokens per second of batched sampling with a KV cache on a
/// SmolLM2-135M-shaped model with random weights, beside `Scripts/bench/hf_generate.py`
/// (transformers' `generate` on the same shapes and settings). `--quantization` stores the
/// decoder's linear layers block-quantized (compare with `Scripts/bench/llama_cpp_generate.py`).
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "New tokens per second of batched generation (KV cache, EOS ignored).")

    @Flag(help: "One JSON line per batch size.") var json = false
    @Option(help: "Batch sizes, comma-separated.") var batches = "1,8"
    @Option(help: "Prompt tokens per sequence.") var promptTokens = 32
    @Option(help: "New tokens per sequence.") var newTokens = 128
    @Option(help: "Timed runs per batch size (the fastest is reported), after one warm-up run.") var runs = 3
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?

    func run() throws {
        let model = try SmolLM2Shape.randomModel()
        if let quantization { try model.quantizeBase(quantization) }
        var options = SamplingOptions()
        options.maxNewTokens = newTokens
        options.ignoreEOS = true
        options.temperature = 1
        options.topK = 0
        for batch in batches.split(separator: ",").compactMap({ Int($0) }) {
            let prompts = SmolLM2Shape.tokenIds(rows: batch, length: promptTokens)
            let best = fastestRun(of: runs) {
                let out = model.generate(prompts, options: options)
                precondition(out.allSatisfy { $0.ids.count == newTokens })
            }
            let rate = Double(batch * newTokens) / best
            report(["batch": batch, "new_tokens": newTokens, "quantization": quantization?.rawValue ?? "float32",
                    "tokens_per_second": (rate * 10).rounded() / 10, "peak_rss_mb": (Double(MemoryStats.peakResidentBytes) / 104_857.6).rounded() / 10,
                    "rss_mb": MemoryStats.residentBytes.map { (Double($0) / 104_857.6).rounded() / 10 as Any } ?? "unknown"], json: json)
        }
    }
}
