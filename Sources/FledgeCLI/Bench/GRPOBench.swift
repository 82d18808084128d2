import ArgumentParser
import Foundation
import FledgeLM
import FledgeRL
import FledgeTensor

/// `fledge bench grpo`: seconds per GRPO optimizer step, split into generation and training, and
/// the peak resident memory, beside `Scripts/bench/trl_grpo.py` (TRL's `GRPOTrainer` on the same
/// settings).
///
/// A SmolLM2-135M-shaped model with random float32 weights and LoRA (r 16, lora_alpha 32, no
/// dropout) on every projection of the decoder; each step takes one prompt of 32 tokens, samples
/// `num_generations` 8 completions of exactly 64 tokens (EOS ignored) at temperature 1, scores them
/// with a cheap text reward, and trains on the 8 rows as one micro-batch (`beta` 0, `loss_type`
/// dapo, AdamW at TRL's defaults). The tokenizer has one token per character, so prompts and
/// completions are text on both sides. Generation is the time in GRPO's `microBatches(for:)`
/// (sampling, decoding, rewards, advantages: TRL's `_generate_and_score_completions`); training is
/// the rest of the step (log-probs and loss forward, backward, clipping, optimizer), with the
/// forward part also reported alone.
struct GRPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo", abstract: "Seconds per GRPO step (generation, training) and peak memory, LoRA, SmolLM2-135M shape.")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Timed optimizer steps (the fastest is reported), after one warm-up step.") var steps = 3
    @Option(help: "Gradient checkpointing (TRL's GRPOConfig default: true).") var gradientCheckpointing = true

    static let promptTokens = 32
    static let numGenerations = 8
    static let completionTokens = 64

    /// One character per token id 2 … 49151 (ids 0 and 1 are `<pad>` and `<eos>`): CJK ideograph
    /// code points from U+20000, none of which has a canonical equivalent.
    static let alphabet = (0..<49150).map { Character(Unicode.Scalar(0x20000 + $0)!) }

    func run() throws {
        let files = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-bench-grpo-\(getpid())")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: files) }

        try CharacterTokenizerFile.write(alphabet: Self.alphabet, to: files)
        let tokenizer = try Tokenizer(directory: files.path)
        let dataset = try PromptDataset(file: try writePrompts(count: steps + 1, to: files), tokenizer: tokenizer)
        precondition(dataset.rows.allSatisfy { $0.promptIds.count == Self.promptTokens }, "a prompt is not \(Self.promptTokens) tokens")

        let model = try SmolLM2Shape.randomModel()
        try model.addLoRA(LoRAOptions(r: 16, alpha: 32, dropout: 0, targetModules: [LoRAOptions.allLinear]))
        model.gradientCheckpointing = gradientCheckpointing
        let config = grpoConfig(outputDirectory: files.appendingPathComponent("output"))
        let grpo = TimedAlgorithm(try GRPO(model: model, tokenizer: tokenizer, dataset: dataset,
                                           rewards: [EvenCodePointReward()], config: config, ignoreEOS: true))
        let trainer = try Trainer(algorithm: grpo, model: model, arguments: config.training)
        let clock = StepClock()
        trainer.observer = clock
        let outcome = try trainer.train()
        precondition(outcome.state.logHistory.last?["completions/min_length"] == Double(Self.completionTokens),
                     "a completion ended before \(Self.completionTokens) tokens")

        let timed = clock.stepSeconds.indices.dropFirst()
        let fastest = timed.min { clock.stepSeconds[$0] < clock.stepSeconds[$1] }!
        let (step, generation, forward) = (clock.stepSeconds[fastest], grpo.batchSeconds[fastest], grpo.lossSeconds[fastest])
        report([
            "step_seconds": rounded(step), "generation_seconds": rounded(generation), "training_seconds": rounded(step - generation),
            "forward_seconds": rounded(forward), "peak_rss_mb": rounded(Double(MemoryStats.peakResidentBytes) / 1_048_576),
            "gradient_checkpointing": gradientCheckpointing, "threads": Parallel.workers,
        ], json: json)
    }

    /// TRL's `GRPOConfig` defaults with the benchmark's batch geometry and lengths.
    private func grpoConfig(outputDirectory: URL) -> GRPOConfig {
        var config = GRPOConfig()
        config.training.outputDir = outputDirectory.path
        config.training.perDeviceTrainBatchSize = Self.numGenerations
        config.training.gradientAccumulationSteps = 1
        config.training.maxSteps = steps + 1
        config.training.loggingSteps = steps + 1
        config.training.saveStrategy = .no
        config.training.gradientCheckpointing = gradientCheckpointing
        config.generation.numGenerations = Self.numGenerations
        config.generation.maxCompletionLength = Self.completionTokens
        config.generation.temperature = 1
        config.generation.beta = 0
        config.lossType = .dapo
        return config
    }

    /// A JSON Lines file of `count` prompts of `promptTokens` characters spread over the alphabet
    /// (the same text as `Scripts/bench/trl_grpo.py`'s).
    private func writePrompts(count: Int, to directory: URL) throws -> URL {
        let lines = (0..<count).map { row in
            let text = String((0..<Self.promptTokens).map { Self.alphabet[($0 * 7919 + row * 104_729 + 17) % Self.alphabet.count] })
            return "{\"prompt\": \"\(text)\"}"
        }
        let file = directory.appendingPathComponent("prompts.jsonl")
        try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: file)
        return file
    }

    private func rounded(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }
}

/// The share of a completion's characters whose code point is even: cheap, computed from the
/// decoded text, and different between completions (so advantages are not all zero).
private struct EvenCodePointReward: RewardFunction {
    let name = "even_code_points"

    func score(_ samples: [RewardSample]) throws -> [Double?] {
        samples.map { sample in
            let scalars = sample.completion.unicodeScalars
            return Double(scalars.filter { $0.value % 2 == 0 }.count) / Double(max(scalars.count, 1))
        }
    }
}
