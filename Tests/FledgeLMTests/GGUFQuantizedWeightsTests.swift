import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// A GGUF file's Q8_0 and Q4_0 linear weights load kept in the file's blocks (`GGUFWeights.keep`,
/// the default): the same values as reading them as float32 (`.float`), llama's Q/K rows
/// unpermuted block row by block row, the same log-probs and greedy tokens, and LoRA trains on them
/// with the gradients of the float load. (GGUFModelTests checks these fixtures against transformers.)
final class GGUFQuantizedWeightsTests: XCTestCase {
    private func load(_ name: String, _ weights: GGUFWeights) throws -> LanguageModel {
        try LanguageModel(directory: GGUFFixtures.url(name), ggufWeights: weights)
    }

    /// Every decoder linear weight of a kept type is a `QuantizedMatrix` of the file's type and
    /// size that dequantizes to exactly the float load's weight; embeddings and the head stay float.
    func testKeptWeightsAreTheFileBlocks() throws {
        for name in GGUFFixtures.quantizedModels {
            let file = try GGUFFile(url: GGUFFixtures.url(name))
            let architecture = try GGUFArchitecture(file)
            let kept = try load(name, .keep), float = try load(name, .float)
            let floatLinears = Dictionary(uniqueKeysWithValues: float.namedLinears)
            var keptBytes = 0
            for (module, linear) in kept.namedLinears {
                let ggufName = try XCTUnwrap(file.tensorInfos.first {
                    GGUFTensorNames.huggingFaceName($0.name, architecture: architecture) == module + ".weight"
                }, module)
                let quantized = try XCTUnwrap(linear.quantizedWeight, "\(name) \(module) should stay quantized")
                XCTAssertEqual(quantized.format, ggufName.type.quantizationFormat, "\(name) \(module)")
                XCTAssertEqual(quantized.byteCount, ggufName.byteCount, "\(name) \(module): the file's blocks, no more")
                XCTAssertEqual(quantized.dequantized().toArray(), try XCTUnwrap(floatLinears[module]).weight.toArray(), "\(name) \(module)")
                XCTAssertNil(floatLinears[module]?.quantizedWeight, "\(name) \(module) with .float")
                keptBytes += quantized.byteCount
            }
            XCTAssertNotNil(kept.baseQuantization, name)
            XCTAssertNil(float.baseQuantization, name)
            XCTAssertLessThan(keptBytes * 3, kept.namedLinears.reduce(0) { $0 + $1.1.outFeatures * $1.1.inFeatures * 4 },
                              "\(name): blocks take under a third of float32")
            XCTAssertEqual(kept.head.weight.toArray(), float.head.weight.toArray(), "\(name): the head stays float")
        }
    }

    /// The llama fixture mixes Q8_0 q/k with a Q4_0 v: the layers keep their own formats.
    func testMixedFormatsKeepTheirOwn() throws {
        let model = try load("llama_q8_0_q4_0", .keep)
        let formats = Dictionary(uniqueKeysWithValues: model.namedLinears.map { ($0.0, $0.1.quantizedWeight?.format) })
        XCTAssertEqual(formats["model.layers.0.self_attn.q_proj"], .q8_0)
        XCTAssertEqual(formats["model.layers.0.self_attn.v_proj"], .q4_0)
        XCTAssertEqual(formats["model.layers.1.mlp.up_proj"], .q4_0)
        XCTAssertEqual(formats["model.layers.1.mlp.down_proj"], .q8_0)
    }

    func testKeptLogProbsAndGreedyTokensMatchTheFloatLoad() throws {
        for name in GGUFFixtures.quantizedModels {
            let kept = try load(name, .keep), float = try load(name, .float)
            let expected = try GGUFFixtures.expected(name)
            let sequences = try XCTUnwrap(expected["score"] as? [[String: Any]]).map { $0["ids"] as! [Int] }
            var worst: Float = 0
            for ids in sequences {
                for (a, b) in zip(kept.tokenLogProbs([ids])[0], float.tokenLogProbs([ids])[0]) { worst = max(worst, abs(a - b)) }
            }
            print("\(name): kept vs float log-probs max abs difference \(worst)")
            XCTAssertLessThan(worst, 1e-5, name)
            var options = SamplingOptions()
            options.greedy = true
            options.maxNewTokens = 30
            options.ignoreEOS = true
            options.quantizedActivations = false  // the float load has no integer decoding products to compare
            for prompt in try XCTUnwrap((expected["greedy"] as? [String: Any])?["prompts"] as? [[Int]]) {
                XCTAssertEqual(kept.generate([prompt], options: options)[0].ids, float.generate([prompt], options: options)[0].ids, name)
            }
        }
    }

    /// LoRA on the kept base: the adapters' gradients are the float load's, the base stays
    /// quantized, and with the adapters off the model is the kept base.
    func testLoRAGradientsOnTheKeptBaseMatchTheFloatLoad() throws {
        for name in GGUFFixtures.quantizedModels {
            let ids = try XCTUnwrap(try GGUFFixtures.expected(name)["score"] as? [[String: Any]])[0]["ids"] as! [Int]
            var gradients: [[String: [Float]]] = []
            for weights in [GGUFWeights.keep, .float] {
                let model = try load(name, weights)
                let base = model.tokenLogProbs([ids])[0]
                try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["all-linear"], seed: 7))
                // PEFT starts lora_B at zero; make it random so that every adapter gradient is nonzero.
                var generator = SeededGenerator(seed: 4)
                for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
                    parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = 0.4 * generator.nextUnitFloat() - 0.2 } }
                }
                let loss = model.sequenceLogProbs([ids], scoredFrom: [1]).logProbs.sum()
                loss.backward()
                gradients.append(Dictionary(uniqueKeysWithValues: try model.trainableParameters.map { ($0.name, try XCTUnwrap($0.tensor.grad).toArray()) }))
                XCTAssertEqual(model.withAdaptersDisabled { model.tokenLogProbs([ids])[0] }, base, "\(name) \(weights): adapters off")
                if weights == .keep { XCTAssertNotNil(model.baseQuantization, "\(name): the base stays quantized under LoRA") }
            }
            XCTAssertFalse(gradients[0].isEmpty, name)
            XCTAssertEqual(gradients[0].keys.sorted(), gradients[1].keys.sorted(), name)
            for (parameter, kept) in gradients[0] {
                XCTAssertTrue(kept.contains { $0 != 0 }, "\(name) \(parameter): a gradient")
                XCTAssertLessThan(relativeError(kept, gradients[1][parameter]!), 1e-5, "\(name) \(parameter)")
            }
        }
    }
}
