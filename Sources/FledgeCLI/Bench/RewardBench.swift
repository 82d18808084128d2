import ArgumentParser
import Foundation
import FledgeLM
import FledgeNN
import FledgeRL
import FledgeTensor

/// `fledge bench reward`: seconds and peak resident memory of one reward-modelling optimizer step on a
/// SmolLM2-135M-shaped sequence classifier with random weights, LoRA adapters (``SmolLM2Shape/lora``)
/// and the trained `score` head, beside `Scripts/bench/trl_reward.py` (TRL's `RewardTrainer` on the
/// same shapes and settings).
///
/// One step is ``RewardModeling``'s loss of `pairs` pairs (a chosen and a rejected sequence of `tokens`
/// tokens each): both through the model as one batch, the rewards at the last token, the Bradley–Terry
/// loss, backward, gradient clipping to norm 1 and an AdamW step (TRL's defaults: lr 1e-4, no weight decay).
struct RewardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward", abstract: "Seconds and peak memory of one reward-modelling step (LoRA and the score head).")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Preference pairs per step.") var pairs = 8
    @Option(help: "Tokens per sequence (chosen and rejected).") var tokens = 128
    @Option(help: "Timed steps (the fastest is reported), after one warm-up step.") var runs = 2
    @Option(help: "Gradient checkpointing: false (as the TRL script by default) or true (TRL's RewardConfig default).")
    var gradientCheckpointing = false

    func run() throws {
        let model = try SmolLM2Shape.randomClassifier(seed: 1)
        try model.addLoRA(SmolLM2Shape.lora)
        model.gradientCheckpointing = gradientCheckpointing
        try model.makeHeadTrainable()
        let ids = SmolLM2Shape.tokenIds(rows: 2 * pairs, length: tokens)
        let train = (0..<pairs).map { RewardPair(chosen: ids[$0], rejected: ids[pairs + $0]) }
        var config = RewardConfig()
        config.training.perDeviceTrainBatchSize = pairs
        let rewardModeling = try RewardModeling(model: model, train: train, config: config)
        let parameters = model.trainableParameters
        let optimizer = AdamW(parameters: parameters, weightDecay: config.training.weightDecay)
        let position = StepPosition(step: 0, epoch: 0, microBatches: 0..<1)
        let seconds = try fastestRun(of: runs) {
            let loss = try rewardModeling.loss(of: try rewardModeling.microBatches(for: position)[0]).loss
            loss.backward()
            _ = GradientClipping.clipGlobalNorm(parameters, maxNorm: config.training.maxGradNorm)
            optimizer.step(learningRate: config.training.learningRate)
            optimizer.zeroGrad()
            precondition(loss.item().isFinite, "the reward loss is \(loss.item())")
        }
        let peak = Double(MemoryStats.peakResidentBytes) / 1_048_576
        report(["pairs": pairs, "tokens": tokens, "step_seconds": (seconds * 1000).rounded() / 1000,
                "peak_rss_mb": (peak * 10).rounded() / 10, "peak_tensor_mb": peakTensorMegabytes,
                "gradient_checkpointing": gradientCheckpointing, "threads": Parallel.workers], json: json)
    }
}
