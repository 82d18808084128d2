import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// A model whose base is quantized by Fledge computes what transformers computes with the same
/// weights quantized and dequantized by the reference libraries (gguf-py, bitsandbytes), and
/// its LoRA gradients are PEFT's on that dequantized model. Fixtures:
/// `Scripts/reference/make_quant_model_fixtures.py` (Fixtures/quantized).
final class QuantizedModelReferenceTests: XCTestCase {
    private static let directory = Fixtures.directory.appendingPathComponent("quantized")
    private static let base = directory.appendingPathComponent("base")

    private func expected() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("expected.json"))) as! [String: Any]
    }

    private func quantizedModel(_ format: QuantizationFormat) throws -> LanguageModel {
        try LanguageModel(directory: Self.base, quantization: BaseQuantization(format))
    }

    func testLogProbsAndGreedyTokensMatchTransformers() throws {
        let expected = try expected()
        let sequences = intRows(expected["sequences"]), prompts = intRows(expected["prompts"])
        let formats = expected["formats"] as! [String: [String: Any]]
        for format in [QuantizationFormat.q8_0, .q4_0, .nf4, .fp4, .int8] {
            let reference = try XCTUnwrap(formats[format.rawValue])
            let model = try quantizedModel(format)
            XCTAssertEqual(model.baseQuantization, format)
            let error = maxAbsDifference(model.tokenLogProbs(sequences), (reference["logprobs"] as! [[NSNumber]]).map { $0.map(\.doubleValue) })
            print("\(format): log-probs max abs error vs transformers \(error)")
            XCTAssertLessThan(error, 1e-4, "\(format) log-probs")
            var options = SamplingOptions()
            options.greedy = true
            options.maxNewTokens = 8
            options.eosTokenIds = []
            for (prompt, tokens) in zip(prompts, intRows(reference["greedy_new_ids"])) {
                XCTAssertEqual(model.generate([prompt], options: options)[0].ids, tokens, "\(format) greedy after \(prompt)")
            }
        }
    }

    func testLoRAGradientsMatchPEFTOnTheDequantizedModel() throws {
        let expected = try expected()
        let sequence = intRows(expected["sequences"])[0]
        let reference = try SafeTensorsFile(url: Self.directory.appendingPathComponent("lora_grads.safetensors"))
        let formats = expected["formats"] as! [String: [String: Any]]
        for format in [QuantizationFormat.q8_0, .q4_0, .nf4, .fp4, .int8] {
            let model = try quantizedModel(format)
            try model.loadAdapter(from: Self.directory.appendingPathComponent("peft_adapter"))
            let loss = model.sequenceLogProbs([sequence], scoredFrom: [1]).logProbs.sum()
            loss.backward()
            let lossReference = try XCTUnwrap(formats[format.rawValue]?["lora_loss"] as? Double)
            XCTAssertEqual(Double(loss.item()), lossReference, accuracy: 1e-4 * abs(lossReference), "\(format) loss")
            let parameters = model.trainableParameters
            XCTAssertEqual(parameters.count, 14, "lora_A and lora_B on 7 projections")
            var worst = 0.0
            for parameter in parameters {
                let error = relativeError(try XCTUnwrap(parameter.tensor.grad).toArray(), try reference.tensor("\(format.rawValue)/\(parameter.name)").toArray())
                worst = max(worst, error)
                XCTAssertLessThan(error, 1e-5, "\(format) \(parameter.name)")
            }
            print("\(format): LoRA gradients vs PEFT, max error relative to each tensor's largest value \(worst)")
        }
    }

    /// With the adapters switched off, the model is the quantized base (the reference policy of
    /// LoRA training stays quantized).
    func testAdaptersOffGiveTheQuantizedBase() throws {
        let sequences = intRows(try expected()["sequences"])
        let plain = try quantizedModel(.nf4).tokenLogProbs(sequences)
        let adapted = try quantizedModel(.nf4)
        try adapted.loadAdapter(from: Self.directory.appendingPathComponent("peft_adapter"))
        XCTAssertEqual(adapted.withAdaptersDisabled { adapted.tokenLogProbs(sequences) }, plain)
        XCTAssertNotEqual(adapted.tokenLogProbs(sequences), plain)
    }

    /// Quantizing as the model loads gives the blocks that quantizing the float weights gives, each
    /// weight with nested statistics of its own, and fuses q/k/v and gate/up into one matrix each.
    func testQuantizingWhileLoadingGivesEachWeightsBlocks() throws {
        let float = try LanguageModel(directory: Self.base)
        let model = try LanguageModel(directory: Self.base, quantization: BaseQuantization(.nf4, nestedAbsmax: true))
        for ((name, linear), (_, reference)) in zip(model.namedLinears, float.namedLinears) {
            let quantized = try XCTUnwrap(linear.quantizedWeight, name)
            let expected = try QuantizedMatrix(quantizing: reference.weight, format: .nf4, name: name, nestedAbsmaxRows: [0..<reference.outFeatures])
            XCTAssertEqual(quantized.dequantized().toArray(), expected.dequantized().toArray(), name)
        }
        XCTAssertTrue(model.namedLinears.allSatisfy { $0.1.weight.shape == [$0.1.outFeatures, $0.1.inFeatures] })
    }

    /// A model made one weight at a time (a benchmark's random model) quantizes each as it is made.
    func testWeightsMadeWhileLoadingAreQuantizedAsTheyAreMade() throws {
        let config = try JSONParser.parse(Array(Data(contentsOf: Self.base.appendingPathComponent("config.json"))))
        guard case .object(let object) = config else { return XCTFail("config.json is not an object") }
        let float = try LanguageModel(directory: Self.base)
        let weights = Dictionary(uniqueKeysWithValues: float.namedWeights)
        var made: [String] = []
        let model = try LanguageModel(configJSON: object, quantization: BaseQuantization(.q8_0)) { name, shape in
            made.append(name)
            XCTAssertEqual(weights[name]?.shape, shape, name)
            return weights[name]!
        }
        XCTAssertEqual(made, try PretrainedModel.expectedWeights(configJSON: object).map(\.0))
        XCTAssertEqual(model.baseQuantization, .q8_0)
        let sequences = intRows(try expected()["sequences"])
        XCTAssertEqual(model.tokenLogProbs(sequences), try quantizedModel(.q8_0).tokenLogProbs(sequences))
    }
}
