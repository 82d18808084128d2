import ArgumentParser
import Foundation
import FledgeLM
import FledgeNN
import FledgeTensor

/// `fledge bench train`: tokens per second and peak resident memory of training steps on a
/// SmolLM2-135M-shaped model with random weights, beside `Scripts/bench/torch_train.py`
/// (PyTorch eager, transformers and PEFT on the same shapes and settings).
///
/// One step is a forward pass over `batch` × `tokens` ids, the mean next-token negative
/// log-likelihood over every position (from `sequenceLogProbs`, so logits are never
/// materialised), backward, and an AdamW step (lr 1e-5, weight decay 0.01). `full` trains every
/// weight; `lora` trains LoRA adapters (r 16, lora_alpha 32, no dropout) on every projection of
/// the decoder. Each configuration runs in a process of its own (this command runs itself with
/// `--only`), so that its peak resident memory is its own. `rss_mb` is the resident memory after
/// the steps. With `--quantization`, each decoder linear weight is quantized as soon as it is drawn,
/// so neither figure includes a float copy of the base. `--bf16` runs the steps as `bf16: true` does
/// (bfloat16 autocast); a LoRA run with `bf16: true` stores its base as `--quantization bf16` does.
struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Tokens per second and peak memory of training steps (full and LoRA).")

    @Flag(help: "One JSON line per configuration.") var json = false
    @Option(help: "Sequences per step.") var batch = 8
    @Option(help: "Tokens per sequence.") var tokens = 256
    @Option(help: "Timed steps per configuration (the fastest is reported), after one warm-up step.") var runs = 2
    @Option(help: "Training modes, comma-separated: lora, full.") var modes = "lora,full"
    @Option(help: "Gradient checkpointing settings, comma-separated: false, true.") var checkpointing = "false,true"
    @Option(help: quantizationHelp) var quantization: QuantizationFormat?
    @Flag(help: "Products in bfloat16, as bf16: true computes them (PyTorch CPU autocast).") var bf16 = false
    @Option(help: .hidden) var only: String?

    func validate() throws {
        if quantization != nil, modes.split(separator: ",").contains("full") {
            throw ValidationError("--quantization freezes the base: use it with --modes lora (a quantized base is not fine-tuned)")
        }
    }

    func run() throws {
        if let only {
            let parts = only.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ValidationError("--only takes MODE,CHECKPOINTING (e.g. lora,false), got '\(only)'") }
            let (mode, checkpointing) = try Self.configuration(mode: parts[0], checkpointing: parts[1])
            try measure(mode: mode, checkpointing: checkpointing)
            return
        }
        let configurations = try modes.split(separator: ",").flatMap { mode in
            try checkpointing.split(separator: ",").map { try Self.configuration(mode: mode, checkpointing: $0) }
        }
        for (mode, checkpointing) in configurations { try runChild(only: "\(mode.rawValue),\(checkpointing)") }
    }

    /// A training mode and a checkpointing setting from their names; throws naming the option at fault.
    static func configuration(mode: Substring, checkpointing: Substring) throws -> (mode: TrainMode, checkpointing: Bool) {
        guard let parsedMode = TrainMode(rawValue: String(mode)) else {
            throw ValidationError("--modes: '\(mode)' is not a training mode; use lora, full or both (lora,full)")
        }
        guard let parsedCheckpointing = Bool(String(checkpointing)) else {
            throw ValidationError("--checkpointing: '\(checkpointing)' is not a setting; use false, true or both (false,true)")
        }
        return (parsedMode, parsedCheckpointing)
    }

    /// Runs this command again for one configuration, its output going to this process's output.
    private func runChild(only: String) throws {
        guard let executable = Bundle.main.executableURL else {
            throw ValidationError("cannot find this program's own path to run each configuration in a process of its own")
        }
        let child = Process()
        child.executableURL = executable
        child.arguments = ["bench", "train", "--batch", "\(batch)", "--tokens", "\(tokens)", "--runs", "\(runs)", "--modes", "lora",
                           "--only", only]
            + (json ? ["--json"] : []) + (bf16 ? ["--bf16"] : []) + (quantization.map { ["--quantization", $0.rawValue] } ?? [])
        try child.run()
        child.waitUntilExit()
        guard child.terminationStatus == 0 else {
            throw ValidationError("the configuration \(only) failed (exit status \(child.terminationStatus))")
        }
    }

    private func measure(mode: TrainMode, checkpointing: Bool) throws {
        let model = try SmolLM2Shape.randomModel(quantization: quantization.map { BaseQuantization($0) })
        switch mode {
        case .full: model.makeFullyTrainable()
        case .lora: try model.addLoRA(SmolLM2Shape.lora)
        }
        model.gradientCheckpointing = checkpointing
        let optimizer = AdamW(parameters: model.trainableParameters, weightDecay: 0.01)
        let ids = SmolLM2Shape.tokenIds(rows: batch, length: tokens)
        let starts = Array(repeating: 1, count: batch)
        let seconds = fastestRun(of: runs) {
            Autocast.$precision.withValue(bf16 ? .bfloat16 : .float32) {
                let loss = -model.sequenceLogProbs(ids, scoredFrom: starts).logProbs.mean()
                loss.backward()
                optimizer.step(learningRate: 1e-5)
                optimizer.zeroGrad()
                precondition(loss.item().isFinite, "the training loss is \(loss.item())")
            }
        }
        let rate = Double(batch * tokens) / seconds
        let peak = Double(MemoryStats.peakResidentBytes) / 1_048_576
        report(["mode": mode.rawValue, "products": bf16 ? "bf16" : "float32", "quantization": quantization?.rawValue ?? "float32",
                "gradient_checkpointing": checkpointing,
                "tokens_per_second": (rate * 10).rounded() / 10,
                "peak_rss_mb": (peak * 10).rounded() / 10,
                "rss_mb": MemoryStats.residentBytes.map { (Double($0) / 104_857.6).rounded() / 10 as Any } ?? "unknown", "threads": Parallel.workers], json: json)
    }
}

/// What a training step trains: every weight, or LoRA adapters only.
enum TrainMode: String {
    case full, lora
}
