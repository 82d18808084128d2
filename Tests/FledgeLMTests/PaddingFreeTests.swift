import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Padding-free scoring (`sequenceLogProbs(paddingFree: true)`, TRL's packed documents): sequences
/// of different lengths run end to end, positions restarting at each, attention within each — the
/// log-probabilities, entropies and every weight's gradient match the left-padded batch within 1e-5
/// relative, for full fine-tuning and LoRA, with and without gradient checkpointing, and with a
/// sliding window shorter than the sequences.
final class PaddingFreeTests: XCTestCase {
    private let sequences: [[Int]] = [[3, 17, 41, 8, 99, 4, 52, 7, 19], [5, 77], [200, 1, 45, 6, 6, 6, 12, 90, 23, 5, 11, 8], [9, 9, 31]]
    private let scoredFrom = [1, 1, 4, 2]

    private func model(slidingWindow: Int?, lora: Bool) throws -> LanguageModel {
        var config: JSONObject = [
            "model_type": slidingWindow == nil ? "llama" : "mistral",
            "architectures": [slidingWindow == nil ? "LlamaForCausalLM" : "MistralForCausalLM"], "vocab_size": 256,
            "hidden_size": 48, "intermediate_size": 80, "num_hidden_layers": 2, "num_attention_heads": 6, "num_key_value_heads": 2,
            "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false,
        ]
        if let slidingWindow { config["sliding_window"] = .int(slidingWindow) }
        var generator = SeededGenerator(seed: 11)
        let model = try RandomModels.model(config, spread: 0.2, using: &generator)
        if lora {
            try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["all-linear"], seed: 3))
            for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
                parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = 0.4 * generator.nextUnitFloat() - 0.2 } }
            }
        } else {
            model.makeFullyTrainable()
        }
        return model
    }

    private func run(_ model: LanguageModel, paddingFree: Bool) -> [Float] {
        for parameter in model.trainableParameters { parameter.tensor.zeroGrad() }
        let scored = model.sequenceLogProbs(sequences, scoredFrom: scoredFrom, temperature: 0.9, withEntropy: true,
                                            paddingFree: paddingFree)
        let total = scored.counts.reduce(0, +)
        let weights = Tensor(shape: [total], values: (0..<total).map { Float($0 % 5) - 1.7 })
        ((scored.logProbs * weights).sum() + scored.entropy!.sum() * 0.3).backward()
        return scored.logProbs.toArray() + scored.entropy!.toArray() + model.trainableParameters.flatMap { $0.tensor.grad!.toArray() }
    }

    func testPaddingFreeEqualsLeftPadded() throws {
        for slidingWindow in [nil, 4] as [Int?] {
            for lora in [false, true] {
                for checkpointing in [false, true] {
                    let model = try model(slidingWindow: slidingWindow, lora: lora)
                    model.gradientCheckpointing = checkpointing
                    let padded = run(model, paddingFree: false), flat = run(model, paddingFree: true)
                    let label = "window \(slidingWindow.map(String.init) ?? "none"), lora \(lora), checkpointing \(checkpointing)"
                    // Log-probs, entropies and gradients together: the largest difference relative to the largest value.
                    let worst = zip(flat, padded).map { abs($0 - $1) }.max()!, scale = padded.map(abs).max()!
                    XCTAssertEqual(flat.count, padded.count, label)
                    XCTAssertLessThanOrEqual(worst / scale, 1e-5, "\(label): \(worst) of \(scale)")
                }
            }
        }
    }
}
