import ArgumentParser
import Foundation
import FledgeLM
import FledgeNN
import FledgeRL
import FledgeTensor

/// `fledge bench kto`: seconds and peak resident memory of one KTO optimizer step on a
/// SmolLM2-135M-shaped model with random weights and LoRA adapters (``SmolLM2Shape/lora``), beside
/// `Scripts/bench/trl_kto.py` (TRL's `KTOTrainer` on the same shapes and settings).
///
/// One step is ``KTO``'s loss of `rows` unpaired rows (a prompt of `prompt-tokens` tokens followed by a
/// completion of `completion-tokens`; rows alternate desirable and undesirable; each row's mismatched
/// completion for the KL estimate is the previous row's, rotated within the batch as TRL builds them):
/// the rows through the model, the mismatched sequences without gradient, the reference log-probs of
/// both with the adapters off, the `kto` loss, backward, gradient clipping to norm 1 and an AdamW step
/// (TRL's defaults: beta 0.1, lr 1e-6, no weight decay).
struct KTOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kto", abstract: "Seconds and peak memory of one KTO step (LoRA, kto loss with its KL estimate).")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Unpaired rows per step.") var rows = 8
    @Option(help: "Prompt tokens per row.") var promptTokens = 64
    @Option(help: "Tokens per completion.") var completionTokens = 64
    @Option(help: "Timed steps (the fastest is reported), after one warm-up step.") var runs = 2
    @Option(help: "Gradient checkpointing: false (as the TRL script by default) or true (TRL's KTOConfig default).")
    var gradientCheckpointing = false

    func run() throws {
        let model = try SmolLM2Shape.randomModel()
        try model.addLoRA(SmolLM2Shape.lora)
        model.gradientCheckpointing = gradientCheckpointing
        let ids = SmolLM2Shape.tokenIds(rows: rows, length: promptTokens + completionTokens)
        let train = (0..<rows).map { index in
            let previous = (index + rows - 1) % rows
            return UnpairedSequence(
                sequence: CompletionSequence(ids: ids[index], completionStart: promptTokens),
                mismatched: CompletionSequence(ids: Array(ids[index].prefix(promptTokens) + ids[previous].dropFirst(promptTokens)),
                                               completionStart: promptTokens),
                label: index % 2 == 0)
        }
        var config = KTOConfig()
        config.training.perDeviceTrainBatchSize = rows
        let kto = try KTO(model: model, train: train, config: config, reference: .adaptersDisabled(model))
        let parameters = model.trainableParameters
        let optimizer = AdamW(parameters: parameters, weightDecay: config.training.weightDecay)
        let position = StepPosition(step: 0, epoch: 0, microBatches: 0..<1)
        let seconds = try fastestRun(of: runs) {
            let loss = try kto.loss(of: try kto.microBatches(for: position)[0]).loss
            loss.backward()
            _ = GradientClipping.clipGlobalNorm(parameters, maxNorm: config.training.maxGradNorm)
            optimizer.step(learningRate: config.training.learningRate)
            optimizer.zeroGrad()
            precondition(loss.item().isFinite, "the KTO loss is \(loss.item())")
        }
        let peak = Double(MemoryStats.peakResidentBytes) / 1_048_576
        report(["rows": rows, "prompt_tokens": promptTokens, "completion_tokens": completionTokens,
                "step_seconds": (seconds * 1000).rounded() / 1000, "peak_rss_mb": (peak * 10).rounded() / 10, "peak_tensor_mb": peakTensorMegabytes,
                "gradient_checkpointing": gradientCheckpointing, "threads": Parallel.workers], json: json)
    }
}
