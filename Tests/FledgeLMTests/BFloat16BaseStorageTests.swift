import XCTest
@testable import FledgeLM

/// A LoRA model whose frozen base is stored in bfloat16 (`BaseQuantization(.bf16)`, what a LoRA run
/// with `bf16: true` loads) computes under bfloat16 `Autocast` exactly what the float32 base computes
/// there: every product with a frozen weight rounds it to bfloat16 anyway. Per-token log-probs (the
/// fused no-grad projections), the training pass's log-probs and LoRA gradients, and sampled
/// generation (one-row decoding products) agree to the bit, on a model with biases and grouped
/// query attention.
final class BFloat16BaseStorageTests: XCTestCase {
    private let sequences = [[1, 5, 9, 2, 7, 30, 11, 4, 8], [3, 14, 15, 9, 26, 5]]

    private func model(_ quantization: BaseQuantization?) throws -> LanguageModel {
        let model = try LanguageModel(directory: ModelFixtures.directory("llama_gqa_bias_linear"), quantization: quantization)
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["all-linear"], seed: 7))
        // PEFT starts lora_B at zero; make it random so that the adapters change the outputs.
        var generator = SeededGenerator(seed: 4)
        for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = 0.4 * generator.nextUnitFloat() - 0.2 } }
        }
        return model
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    func testLogProbsGradientsAndSamplesEqualTheFloat32BaseUnderAutocast() throws {
        let float = try model(nil), stored = try model(BaseQuantization(.bf16))
        XCTAssertNil(float.baseQuantization)
        XCTAssertEqual(stored.baseQuantization, .bf16)
        let linears = Dictionary(uniqueKeysWithValues: float.namedLinears)
        for (name, linear) in stored.namedLinears {
            let matrix = try XCTUnwrap(linear.quantizedWeight, name)
            XCTAssertEqual(matrix.byteCount, linears[name]!.weight.count * 2, "\(name): two bytes a weight")
        }

        Autocast.$precision.withValue(.bfloat16) {
            XCTAssertEqual(stored.tokenLogProbs(sequences).map(bits), float.tokenLogProbs(sequences).map(bits), "scoring")
        }
        var gradients: [[String: [UInt32]]] = [], logProbs: [[UInt32]] = []
        for model in [float, stored] {
            Autocast.$precision.withValue(.bfloat16) {
                let scored = model.sequenceLogProbs(sequences, scoredFrom: [2, 1]).logProbs
                logProbs.append(bits(scored.toArray()))
                scored.sum().backward()
            }
            gradients.append(Dictionary(uniqueKeysWithValues: try model.trainableParameters.map { ($0.name, bits(try XCTUnwrap($0.tensor.grad).toArray())) }))
        }
        XCTAssertEqual(logProbs[1], logProbs[0], "training pass")
        XCTAssertEqual(gradients[0].keys.sorted(), gradients[1].keys.sorted())
        XCTAssertEqual(gradients[0].count, 2 * 7 * 2, "A and B of 7 projections in 2 layers")
        for (parameter, expected) in gradients[0] {
            XCTAssertTrue(expected.contains { $0 & 0x7FFF_FFFF != 0 }, "\(parameter): a gradient")
            XCTAssertEqual(gradients[1][parameter], expected, parameter)
        }

        var options = SamplingOptions()
        options.maxNewTokens = 12
        options.ignoreEOS = true
        options.seed = 11
        Autocast.$precision.withValue(.bfloat16) {
            let expected = float.generate(sequences, options: options), got = stored.generate(sequences, options: options)
            XCTAssertEqual(got.map(\.ids), expected.map(\.ids), "sampled tokens")
            XCTAssertEqual(got.map { bits($0.logProbs) }, expected.map { bits($0.logProbs) }, "sampled tokens' log-probs")
        }
    }
}
