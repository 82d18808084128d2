import ArgumentParser
import Foundation
import FledgeLM
import FledgeNN
import FledgeRL
import FledgeTensor

/// `fledge bench dpo`: seconds and peak resident memory of one DPO optimizer step on a
/// SmolLM2-135M-shaped model with random weights and LoRA adapters (``SmolLM2Shape/lora``), beside
/// `Scripts/bench/trl_dpo.py` (TRL's `DPOTrainer` on the same shapes and settings).
///
/// One step is ``DPO``'s loss of `pairs` preference pairs (each a prompt of `prompt-tokens` tokens
/// followed by a chosen and a rejected completion of `completion-tokens`): the chosen and rejected
/// sequences through the model, the reference log-probs with the adapters off, the sigmoid loss,
/// backward, gradient clipping to norm 1 and an AdamW step (TRL's defaults: lr 1e-6, no weight decay).
struct DPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo", abstract: "Seconds and peak memory of one DPO step (LoRA, sigmoid loss).")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Preference pairs per step.") var pairs = 8
    @Option(help: "Prompt tokens per pair.") var promptTokens = 64
    @Option(help: "Tokens per completion (chosen and rejected).") var completionTokens = 64
    @Option(help: "Timed steps (the fastest is reported), after one warm-up step.") var runs = 2

    func run() throws {
        let model = try SmolLM2Shape.randomModel()
        try model.addLoRA(SmolLM2Shape.lora)
        let length = promptTokens + completionTokens
        let ids = SmolLM2Shape.tokenIds(rows: 2 * pairs, length: length)
        let train = (0..<pairs).map { index in
            PreferencePair(chosen: CompletionSequence(ids: ids[index], completionStart: promptTokens),
                           rejected: CompletionSequence(ids: Array(ids[index].prefix(promptTokens) + ids[pairs + index].dropFirst(promptTokens)),
                                                        completionStart: promptTokens))
        }
        var config = DPOConfig()
        config.training.perDeviceTrainBatchSize = pairs
        let dpo = try DPO(model: model, train: train, config: config, reference: .adaptersDisabled(model))
        let parameters = model.trainableParameters
        let optimizer = AdamW(parameters: parameters, weightDecay: config.training.weightDecay)
        let position = StepPosition(step: 0, epoch: 0, microBatches: 0..<1)
        let seconds = try fastestRun(of: runs) {
            let loss = try dpo.loss(of: try dpo.microBatches(for: position)[0]).loss
            loss.backward()
            _ = GradientClipping.clipGlobalNorm(parameters, maxNorm: config.training.maxGradNorm)
            optimizer.step(learningRate: config.training.learningRate)
            optimizer.zeroGrad()
            precondition(loss.item().isFinite, "the DPO loss is \(loss.item())")
        }
        let peak = Double(MemoryStats.peakResidentBytes) / 1_048_576
        report(["pairs": pairs, "prompt_tokens": promptTokens, "completion_tokens": completionTokens,
                "step_seconds": (seconds * 1000).rounded() / 1000, "peak_rss_mb": (peak * 10).rounded() / 10,
                "threads": Parallel.workers], json: json)
    }
}
