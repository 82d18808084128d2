import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// Shared-prefix scoring (`sequenceLogProbs(sharingPrefixes: true)`, Prefix Grouper): each distinct
/// prompt runs once and its completions attend to one copy of its keys and values, yet the
/// log-probabilities, entropies and every weight's gradient match running each sequence whole
/// within 1e-5 relative — for LoRA and full fine-tuning, left-padded prompts of different lengths,
/// completions of different lengths, with and without gradient checkpointing, and with a sliding
/// window shorter than the sequences.
final class SharedPrefixTests: XCTestCase {
    /// Two prompts of different lengths with three and two completions, a prompt of its own, and a
    /// row scoring nothing, interleaved.
    private let sequences: [[Int]] = {
        let first = [3, 17, 41, 8, 99], second = [5, 77, 12, 60, 31, 2, 88, 140, 9]
        return [first + [4, 52, 7, 19], second + [33], first + [61, 2], [200, 1, 45] + [6, 6, 6], second + [71, 18, 90, 23, 5, 11],
                first + [4, 52, 13], second + [3, 3]]
    }()
    private var scoredFrom: [Int] { [5, 9, 5, 3, 9, 5, 11] }

    private func model(slidingWindow: Int? = nil, lora: Bool, dropout: Double = 0) throws -> LanguageModel {
        var config: JSONObject = [
            "model_type": slidingWindow == nil ? "llama" : "mistral",
            "architectures": [slidingWindow == nil ? "LlamaForCausalLM" : "MistralForCausalLM"], "vocab_size": 256,
            "hidden_size": 48, "intermediate_size": 80, "num_hidden_layers": 3, "num_attention_heads": 6, "num_key_value_heads": 2,
            "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false,
        ]
        if let slidingWindow { config["sliding_window"] = .int(slidingWindow) }
        var generator = SeededGenerator(seed: 7)
        let model = try RandomModels.model(config, spread: 0.2, using: &generator)
        if lora {
            try model.addLoRA(LoRAOptions(r: 4, alpha: 8, dropout: dropout, targetModules: ["all-linear"], seed: 3))
            for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
                parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = 0.4 * generator.nextUnitFloat() - 0.2 } }
            }
        } else {
            model.makeFullyTrainable()
        }
        return model
    }

    /// Log-probs, entropies and gradients of a weighted sum of both.
    private func run(_ model: LanguageModel, sharing: Bool, checkpointing: Bool) -> (logProbs: [Float], entropy: [Float], grads: [String: [Float]]) {
        model.gradientCheckpointing = checkpointing
        for parameter in model.trainableParameters { parameter.tensor.zeroGrad() }
        let scored = model.sequenceLogProbs(sequences, scoredFrom: scoredFrom, temperature: 0.9, withEntropy: true,
                                            sharingPrefixes: sharing)
        let weights = Tensor(shape: [scored.counts.reduce(0, +)], values: (0..<scored.counts.reduce(0, +)).map { Float($0 % 5) - 1.7 })
        ((scored.logProbs * weights).sum() + scored.entropy!.sum() * 0.3).backward()
        let grads = Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.name, $0.tensor.grad!.toArray()) })
        return (scored.logProbs.toArray(), scored.entropy!.toArray(), grads)
    }

    /// `actual` within 1e-5 of `expected`, relative to `expected`'s largest magnitude.
    private func assertClose(_ actual: [Float], _ expected: [Float], _ label: String) {
        XCTAssertEqual(actual.count, expected.count, label)
        let scale = max(expected.map(abs).max() ?? 0, 1e-12)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst / scale, 1e-5, "\(label): largest difference \(worst) of \(scale)")
    }

    private func check(slidingWindow: Int? = nil, lora: Bool, checkpointing: Bool) throws {
        let label = "lora \(lora), checkpointing \(checkpointing), window \(String(describing: slidingWindow))"
        let plain = run(try model(slidingWindow: slidingWindow, lora: lora), sharing: false, checkpointing: false)
        let shared = run(try model(slidingWindow: slidingWindow, lora: lora), sharing: true, checkpointing: checkpointing)
        XCTAssertEqual(plain.logProbs.count, 4 + 1 + 2 + 3 + 6 + 3 + 0)
        assertClose(shared.logProbs, plain.logProbs, "\(label): log-probs")
        assertClose(shared.entropy, plain.entropy, "\(label): entropies")
        XCTAssertEqual(Set(shared.grads.keys), Set(plain.grads.keys))
        for (name, gradient) in plain.grads { assertClose(shared.grads[name] ?? [], gradient, "\(label): \(name)") }
    }

    func testLoRAGradientsMatchTheUnsharedComputation() throws {
        try check(lora: true, checkpointing: false)
        try check(lora: true, checkpointing: true)
    }

    func testFullFineTuningGradientsMatchTheUnsharedComputation() throws {
        try check(lora: false, checkpointing: false)
        try check(lora: false, checkpointing: true)
    }

    func testSlidingWindowMatchesTheUnsharedComputation() throws {
        try check(slidingWindow: 4, lora: true, checkpointing: false)
    }

    /// Under LoRA dropout each copy of a prompt draws its own masks, so nothing is shared: the same
    /// numbers as the unshared pass, bit for bit.
    func testLoRADropoutRunsEverySequenceWhole() throws {
        let plain = run(try model(lora: true, dropout: 0.2), sharing: false, checkpointing: false)
        let shared = run(try model(lora: true, dropout: 0.2), sharing: true, checkpointing: false)
        XCTAssertEqual(shared.logProbs, plain.logProbs)
        XCTAssertEqual(shared.grads, plain.grads)
    }

    /// The packed batch holds each distinct prefix once.
    func testEachPrefixIsPackedOnce() {
        let packed = SharedPrefixBatch(sequences, splitAt: scoredFrom)
        let suffixTokens = sequences.indices.map { sequences[$0].count - scoredFrom[$0] }.reduce(0, +)
        // Prompts of 5, 9 and 3 tokens, and the row scoring nothing is its own 11-token prefix.
        XCTAssertEqual(packed.ids.count, 5 + 9 + 3 + 11 + suffixTokens)
        XCTAssertEqual(packed.attention.groups, 4)
        XCTAssertEqual(packed.positions[packed.suffixStart[0]], 5)
        XCTAssertEqual(packed.prefixEnd[0], packed.prefixEnd[2])
    }
}
