import ArgumentParser
import Foundation
import FledgeLM
import FledgeRL
import FledgeTensor

/// `fledge bench grpo`: seconds per GRPO optimizer step, split into generation and training, and
/// the peak resident memory, beside `Scripts/bench/trl_grpo.py` (TRL's `GRPOTrainer` on the same
/// settings).
///
/// A SmolLM2-135M-shaped model (`--shape` picks another) with random float32 weights (`--quantization`
/// stores the decoder's linear weights block-quantized, each as soon as it is drawn) and LoRA (r 16, lora_alpha 32, no
/// dropout) on every projection of the decoder; each step takes the setting's prompts
/// (``GRPOBenchSetting``: by default one prompt of 32 tokens), samples `num_generations` 8
/// completions of each, of exactly the setting's length (EOS ignored), at temperature 1, scores them
/// with a cheap text reward, and trains on the rows in micro-batches of 8 (`beta` 0, `loss_type`
/// dapo, AdamW at TRL's defaults). The tokenizer has one token per character, so prompts and
/// completions are text on both sides (a vocabulary larger than SmolLM2's gets more characters). Generation is the time in GRPO's `microBatches(for:)`
/// (sampling, decoding, rewards, advantages: TRL's `_generate_and_score_completions`); training is
/// the rest of the step (log-probs and loss forward, backward, clipping, optimizer), with the
/// forward part also reported alone; the CPU time (user + system, all threads) of the timed step
/// that took the least of it, and of its generation, measure the work on a shared machine (best
/// with `FLEDGE_NUM_THREADS=1`).
struct GRPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo", abstract: "Seconds per GRPO step (generation, training) and peak memory, LoRA, SmolLM2-135M shape or another.")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Timed optimizer steps (the fastest is reported), after one warm-up step; 0 reports the warm-up step alone.")
    var steps = 3
    @Option(help: "Gradient checkpointing: true (TRL's GRPOConfig default), false, or auto (Fledge's default preset: only when a pass's estimated activations exceed half the available memory).")
    var gradientCheckpointing = GradientCheckpointing.enabled
    @Option(help: "short: 1 prompt of 32 tokens × 8 completions × 64 tokens, gradient_accumulation_steps 1; long: 4 prompts of 160 tokens × 8 completions × 256 tokens, gradient_accumulation_steps 4; minimal: 1 prompt of 16 tokens × 8 completions × 16 tokens (a step of a large shape that finishes).")
    var setting = GRPOBenchSetting.short
    @Option(help: "The model's shape: smollm2-135m, qwen2.5-1.5b or qwen2.5-7b.") var shape = BenchModelShape.smolLM2_135M
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?
    @Flag(help: "With --quantization nf4 or fp4: compress each weight's block absmax as bitsandbytes' use_bnb_nested_quant does.")
    var useBnbNestedQuant = false

    static let numGenerations = 8

    func validate() throws {
        if steps < 0 { throw ValidationError("--steps must be 0 or more, got \(steps)") }
        if useBnbNestedQuant, quantization != .nf4, quantization != .fp4 {
            throw ValidationError("--use-bnb-nested-quant compresses 4-bit block statistics: use it with --quantization nf4 or fp4")
        }
    }

    /// One character per token id 2 … `vocabularySize` − 1 (ids 0 and 1 are `<pad>` and `<eos>`): code
    /// points from U+20000 (CJK ideographs, then unassigned ones), skipping the CJK compatibility
    /// ideographs U+2F800 … U+2FA1F, so that none has a canonical equivalent.
    static func alphabet(vocabularySize: Int) -> [Character] {
        let compatibility: ClosedRange<UInt32> = 0x2F800...0x2FA1F
        return (0..<UInt32(vocabularySize - 2)).map { index in
            let skipped = 0x20000 + index >= compatibility.lowerBound ? UInt32(compatibility.count) : 0
            return Character(Unicode.Scalar(0x20000 + index + skipped)!)
        }
    }

    func run() throws {
        let files = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-bench-grpo-\(getpid())")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: files) }

        let alphabet = Self.alphabet(vocabularySize: shape.vocabularySize)
        try CharacterTokenizerFile.write(alphabet: alphabet, to: files)
        let tokenizer = try Tokenizer(directory: files.path)
        let dataset = try PromptDataset(file: try writePrompts(count: (steps + 1) * setting.prompts, alphabet: alphabet, to: files), tokenizer: tokenizer)
        precondition(dataset.rows.allSatisfy { $0.promptIds.count == setting.promptTokens }, "a prompt is not \(setting.promptTokens) tokens")

        let model = try shape.randomModel(quantization: quantization.map { BaseQuantization($0, nestedAbsmax: useBnbNestedQuant) })
        try model.addLoRA(SmolLM2Shape.lora)
        let config = grpoConfig(outputDirectory: files.appendingPathComponent("output"))
        model.gradientCheckpointing = config.training.checkpointsGradients
        model.checkpointingMemoryBudget = config.training.checkpointingMemoryBudget
        let grpo = TimedAlgorithm(try GRPO(model: model, tokenizer: tokenizer, dataset: dataset,
                                           rewards: [EvenCodePointReward()], config: config, ignoreEOS: true))
        let trainer = try Trainer(algorithm: grpo, model: model, arguments: config.training)
        let clock = StepClock()
        trainer.observer = clock
        let outcome = try trainer.train()
        precondition(outcome.state.logHistory.last?["completions/min_length"] == Double(setting.completionTokens),
                     "a completion ended before \(setting.completionTokens) tokens")

        let timed = clock.stepSeconds.indices.dropFirst(steps == 0 ? 0 : 1)
        let fastest = timed.min { clock.stepSeconds[$0] < clock.stepSeconds[$1] }!
        let (step, generation, forward) = (clock.stepSeconds[fastest], grpo.batchSeconds[fastest], grpo.lossSeconds[fastest])
        let leanest = timed.min { clock.stepCPUSeconds[$0] < clock.stepCPUSeconds[$1] }!
        report([
            "step_seconds": rounded(step), "generation_seconds": rounded(generation), "training_seconds": rounded(step - generation),
            "forward_seconds": rounded(forward), "step_cpu_seconds": rounded(clock.stepCPUSeconds[leanest]),
            "generation_cpu_seconds": rounded(grpo.batchCPUSeconds[leanest]), "peak_rss_mb": rounded(Double(MemoryStats.peakResidentBytes) / 1_048_576),
            "gradient_checkpointing": gradientCheckpointing == .auto ? "auto" as Any : gradientCheckpointing == .enabled, "threads": Parallel.workers, "setting": setting.rawValue as Any,
            "shape": shape.rawValue as Any, "quantization": quantization?.rawValue ?? "float32", "nested_absmax": useBnbNestedQuant,
        ], json: json)
    }

    /// TRL's `GRPOConfig` defaults with the benchmark's batch geometry and lengths.
    private func grpoConfig(outputDirectory: URL) -> GRPOConfig {
        var config = GRPOConfig()
        config.training.outputDir = outputDirectory.path
        config.training.perDeviceTrainBatchSize = Self.numGenerations
        config.training.gradientAccumulationSteps = setting.gradientAccumulationSteps
        config.training.maxSteps = steps + 1
        config.training.loggingSteps = steps + 1
        config.training.saveStrategy = .no
        config.training.gradientCheckpointing = gradientCheckpointing
        config.generation.numGenerations = Self.numGenerations
        config.generation.maxCompletionLength = setting.completionTokens
        config.generation.temperature = 1
        config.generation.beta = 0
        config.lossType = .dapo
        return config
    }

    /// A JSON Lines file of `count` prompts of the setting's length in characters spread over the alphabet
    /// (the same text as `Scripts/bench/trl_grpo.py`'s).
    private func writePrompts(count: Int, alphabet: [Character], to directory: URL) throws -> URL {
        let lines = (0..<count).map { row in
            let text = String((0..<setting.promptTokens).map { alphabet[($0 * 7919 + row * 104_729 + 17) % alphabet.count] })
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

extension GradientCheckpointing: ExpressibleByArgument {}

/// The shapes `fledge bench grpo` runs (short and long as `Scripts/bench/trl_grpo.py --setting`): prompts per
/// optimizer step, their length, and each completion's length; micro-batches hold `num_generations`
/// rows, so a step of several prompts accumulates one micro-batch per prompt.
enum GRPOBenchSetting: String, ExpressibleByArgument, CaseIterable {
    /// One prompt of 32 tokens, 8 completions of 64 tokens, one micro-batch.
    case short
    /// Four prompts of 160 tokens, 8 completions of 256 tokens each, `gradient_accumulation_steps` 4.
    case long
    /// One prompt of 16 tokens, 8 completions of 16 tokens, one micro-batch: a step of a large shape
    /// that finishes in minutes.
    case minimal

    var prompts: Int { self == .long ? 4 : 1 }
    var promptTokens: Int { [.short: 32, .long: 160, .minimal: 16][self]! }
    var completionTokens: Int { [.short: 64, .long: 256, .minimal: 16][self]! }
    var gradientAccumulationSteps: Int { prompts }
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
