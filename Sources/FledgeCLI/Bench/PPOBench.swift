import ArgumentParser
import Foundation
import FledgeLM
import FledgeNN
import FledgeRL
import FledgeTensor

/// `fledge bench ppo`: seconds and peak resident memory of one PPO step on SmolLM2-135M-shaped models
/// with random weights, beside `Scripts/bench/trl_ppo.py` (the steps of TRL 1.12's `PPOTrainer` in
/// PyTorch, transformers and PEFT on the same shapes and settings).
///
/// The policy and the value model (a one-label classifier) train LoRA adapters (``SmolLM2Shape/lora``)
/// and the value model its score head; the reward model is a third random classifier; the reference is
/// the policy with its adapters off. One step is ``PPO``'s rollout of `prompts` prompts of
/// `prompt-tokens` tokens — responses of `response-length` tokens sampled at temperature 0.7 with EOS
/// ignored, then the policy's and reference's log-probs, the values and the scores — and
/// `ppo-epochs` optimizer steps on it (one mini-batch each: the clipped policy and value losses,
/// backward, clipping to norm 1 and AdamW with TRL's lr 3e-6). The JSON line splits the step into
/// `rollout_seconds` and `train_seconds`.
struct PPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo", abstract: "Seconds and peak memory of one PPO step (rollout and training, LoRA).")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Prompts per rollout.") var prompts = 8
    @Option(help: "Tokens per prompt.") var promptTokens = 32
    @Option(help: "Tokens per response (EOS ignored).") var responseLength = 64
    @Option(help: "Optimizer steps on each rollout (TRL's num_ppo_epochs; its default is 4).") var ppoEpochs = 1
    @Option(help: "Timed steps (the fastest is reported), after one warm-up step.") var runs = 2

    func run() throws {
        let policy = try SmolLM2Shape.randomModel(overriding: ["pad_token_id": 0])
        try policy.addLoRA(SmolLM2Shape.lora)
        let value = try SmolLM2Shape.randomClassifier(seed: 2)
        try value.addLoRA(SmolLM2Shape.lora)
        value.score.weight = value.score.weight.copied()
        value.score.weight.requiresGrad = true
        let models = PolicyAndValue(policy: policy, value: value)
        let rows = SmolLM2Shape.tokenIds(rows: prompts, length: promptTokens).map {
            PromptDataset.Row(prompt: .string(""), promptIds: $0, columns: JSONObject())
        }
        var config = PPOConfig()
        config.responseLength = responseLength
        config.numPPOEpochs = ppoEpochs
        config.training.perDeviceTrainBatchSize = prompts
        let ppo = try PPO(models: models, tokenizer: try Tokenizer(json: Array(#"{"model": {"type": "BPE", "vocab": {"<pad>": 0}, "merges": []}}"#.utf8),
                                                                   path: "(in memory)"),
                          dataset: PromptDataset(rows: rows, file: URL(fileURLWithPath: "(in memory)")),
                          scorer: .rewardModel(try SmolLM2Shape.randomClassifier(seed: 3)), config: config, reference: .adaptersDisabled(policy))
        let parameters = models.trainableParameters
        let optimizer = AdamW(parameters: parameters, weightDecay: config.training.weightDecay)
        var best = (rollout: Double.infinity, train: Double.infinity)
        for run in 0...runs {
            // Each pass over the prompts (`epoch`) samples a new rollout on its first step.
            let start = DispatchTime.now().uptimeNanoseconds
            let first = try ppo.microBatches(for: StepPosition(step: 0, epoch: run, microBatches: 0..<1))
            let sampled = DispatchTime.now().uptimeNanoseconds
            for step in 0..<ppoEpochs {
                let batches = step == 0 ? first : try ppo.microBatches(for: StepPosition(step: step, epoch: run, microBatches: step..<(step + 1)))
                let loss = try ppo.loss(of: batches[0]).loss
                loss.backward()
                _ = GradientClipping.clipGlobalNorm(parameters, maxNorm: config.training.maxGradNorm)
                optimizer.step(learningRate: config.training.learningRate)
                optimizer.zeroGrad()
                precondition(loss.item().isFinite, "the PPO loss is \(loss.item())")
            }
            let times = (rollout: Double(sampled - start) / 1e9, train: Double(DispatchTime.now().uptimeNanoseconds - sampled) / 1e9)
            if run > 0, times.rollout + times.train < best.rollout + best.train { best = times }
        }
        let rounded = { (seconds: Double) in (seconds * 1000).rounded() / 1000 }
        let peak = Double(MemoryStats.peakResidentBytes) / 1_048_576
        report(["prompts": prompts, "prompt_tokens": promptTokens, "response_length": responseLength, "ppo_epochs": ppoEpochs,
                "step_seconds": rounded(best.rollout + best.train), "rollout_seconds": rounded(best.rollout),
                "train_seconds": rounded(best.train), "peak_rss_mb": (peak * 10).rounded() / 10, "threads": Parallel.workers], json: json)
    }
}
