import ArgumentParser
import Foundation
import FledgeLM
import FledgeNN
import FledgeRL
import FledgeTensor

/// `fledge bench distill`: seconds and peak resident memory of the training half of one on-policy
/// distillation step on a SmolLM2-135M-shaped student with random weights and LoRA adapters
/// (``SmolLM2Shape/lora``) and a frozen teacher of the same shape with other random weights, beside
/// `Scripts/bench/trl_distill.py` (TRL's `DistillationTrainer` on the same shapes and settings).
///
/// One step is ``DistillationLoss`` over `rows` sampled rows (a prompt of `prompt-tokens` tokens and a
/// completion of `completion-tokens`, fixed token ids: the student's sampling is what the generation
/// benchmarks measure): the student's forward, the teacher's forward without gradient, the generalized
/// JSD in blocks of positions over the vocabulary, divided by the completion tokens, backward, gradient
/// clipping to norm 1 and an AdamW step (TRL's defaults: beta 1, temperature 1, lr 1e-6, no weight decay).
struct DistillBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill", abstract: "Seconds and peak memory of the training half of one distillation step (LoRA student, frozen teacher).")

    @Flag(help: "One JSON line.") var json = false
    @Option(help: "Sampled rows per step.") var rows = 8
    @Option(help: "Prompt tokens per row.") var promptTokens = 64
    @Option(help: "Completion tokens per row.") var completionTokens = 64
    @Option(help: "Timed steps (the fastest is reported), after one warm-up step.") var runs = 2
    @Option(help: "Gradient checkpointing: false (as the TRL script by default) or true (TRL's DistillationConfig default).")
    var gradientCheckpointing = false
    @Option(help: "Logits (rows × vocabulary) per block of the generalized JSD, for each model.")
    var chunkElements = DistillationLoss.defaultChunkElements

    func run() throws {
        let student = try SmolLM2Shape.randomModel(seed: 1)
        try student.addLoRA(SmolLM2Shape.lora)
        student.gradientCheckpointing = gradientCheckpointing
        let teacher = try SmolLM2Shape.randomModel(seed: 2)
        let ids = SmolLM2Shape.tokenIds(rows: rows, length: promptTokens + completionTokens)
        let prompts = ids.map { Array($0.prefix(promptTokens)) }, completions = ids.map { Array($0.dropFirst(promptTokens)) }
        let config = DistillationConfig()
        let loss = DistillationLoss(beta: config.beta, temperature: config.temperature, chunkElements: chunkElements)
        let parameters = student.trainableParameters
        let optimizer = AdamW(parameters: parameters, weightDecay: config.training.weightDecay)
        let seconds = fastestRun(of: runs) {
            let result = loss.compute(student: student, teacher: teacher, promptIds: prompts, completionIds: completions,
                                      batchTokens: rows * completionTokens).loss
            result.backward()
            _ = GradientClipping.clipGlobalNorm(parameters, maxNorm: config.training.maxGradNorm)
            optimizer.step(learningRate: config.training.learningRate)
            optimizer.zeroGrad()
            precondition(result.item().isFinite, "the distillation loss is \(result.item())")
        }
        let peak = Double(MemoryStats.peakResidentBytes) / 1_048_576
        report(["rows": rows, "prompt_tokens": promptTokens, "completion_tokens": completionTokens,
                "step_seconds": (seconds * 1000).rounded() / 1000, "peak_rss_mb": (peak * 10).rounded() / 10, "peak_tensor_mb": peakTensorMegabytes,
                "gradient_checkpointing": gradientCheckpointing, "chunk_elements": chunkElements, "threads": Parallel.workers], json: json)
    }
}
