import ArgumentParser
import Foundation
import FledgeHub
import FledgeLM
import FledgeTensor

/// `fledge bench generate`: tokens per second of batched sampling with a KV cache on a
/// SmolLM2-135M-shaped model with random weights, beside `Scripts/bench/hf_generate.py`
/// (transformers' `generate` on the same shapes and settings). With `--completion-lengths`, row
/// `r` stops after the `r mod n`-th of the n lengths given (a stop callback, as stop strings end
/// rows), so finished rows leaving the batch shows. `--quantization` stores the decoder's linear
/// layers block-quantized. `--model` decodes a real model (a directory, GGUF file or Hub id) instead
/// of the random one, beside `Scripts/bench/llama_cpp_generate.py` on the same GGUF file.
/// `decode_tokens_per_second` counts the tokens after each row's first over the time they took (the
/// fastest whole run less the fastest run of one new token), prompt evaluation left out.
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "New tokens per second of batched generation (KV cache, EOS ignored).")

    @Flag(help: "One JSON line per batch size.") var json = false
    @Option(help: "Batch sizes, comma-separated.") var batches = "1,8"
    @Option(help: "Prompt tokens per sequence.") var promptTokens = 32
    @Option(help: "New tokens per sequence (without --completion-lengths).") var newTokens = 128
    @Option(help: "Where rows stop, comma-separated (row r stops after the (r mod n)-th length; e.g. 16,64,128,256).")
    var completionLengths: String?
    @Option(help: "Timed runs per batch size (the fastest is reported), after one warm-up run.") var runs = 3
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?
    @Option(help: "A model directory, GGUF file or Hub id to decode instead of the random SmolLM2-135M-shaped model.")
    var model: String?

    func run() throws {
        let lengths = try completionLengths.map(Self.lengths) ?? [newTokens]
        let quantization = self.quantization.map { BaseQuantization($0) }
        let model = try self.model.map { try LanguageModel(directory: ModelLocation.resolve($0), quantization: quantization) }
            ?? SmolLM2Shape.randomModel(quantization: quantization)
        var options = SamplingOptions()
        options.maxNewTokens = lengths.max()!
        options.ignoreEOS = true
        options.temperature = 1
        options.topK = 0
        for batch in batches.split(separator: ",").compactMap({ Int($0) }) {
            let prompts = SmolLM2Shape.tokenIds(rows: batch, length: promptTokens)
            try checkVocabulary(prompts.flatMap { $0 }, size: model.config.vocabSize, source: "the benchmark's prompts")
            let expected = (0..<batch).map { lengths[$0 % lengths.count] }
            let stop: ((Int, [Int]) -> Bool)? = completionLengths == nil ? nil : { row, ids in ids.count == expected[row] }
            let best = fastestRun(of: runs) {
                let out = model.generate(prompts, options: options, shouldStop: stop)
                precondition(out.map(\.ids.count) == expected)
            }
            var firstToken = options
            firstToken.maxNewTokens = 1
            let prefill = fastestRun(of: runs) { _ = model.generate(prompts, options: firstToken) }
            let rate = Double(expected.reduce(0, +)) / best
            let decodeRate = Double(expected.reduce(0, +) - batch) / (best - prefill)
            report(["batch": batch, "new_tokens": options.maxNewTokens,
                    "completion_lengths": lengths.map(String.init).joined(separator: ","),
                    "quantization": quantization?.format.rawValue ?? "float32",
                    "tokens_per_second": (rate * 10).rounded() / 10, "decode_tokens_per_second": (decodeRate * 10).rounded() / 10,
                    "peak_rss_mb": (Double(MemoryStats.peakResidentBytes) / 104_857.6).rounded() / 10,
                    "rss_mb": MemoryStats.residentBytes.map { (Double($0) / 104_857.6).rounded() / 10 as Any } ?? "unknown"], json: json)
        }
    }

    /// `--completion-lengths`: positive integers, comma-separated.
    private static func lengths(_ text: String) throws -> [Int] {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else {
            throw ValidationError("--completion-lengths must be positive integers separated by commas, got '\(text)'")
        }
        return values.map { $0! }
    }
}
