import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// LoRA and full fine-tuning at run time: PEFT's initialisation, parameter names and order,
/// seeded dropout that is off without autograd, adapters switched off with no second copy, fused
/// products that carry the adapters' terms, and fused inference products that read what training
/// wrote into the separate layers.
final class LoRABehaviourTests: XCTestCase {
    func testFreshAdaptersStartAtTheBaseModel() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        let sequences = try LoRAFixtures.sequences()
        let base = model.tokenLogProbs(sequences)
        try model.addLoRA(LoRAOptions(r: 4, alpha: 8, targetModules: ["all-linear"], seed: 1))
        XCTAssertEqual(model.loraModules.count, 14)
        XCTAssertFalse(model.namedWeights.contains { $0.1.requiresGrad }, "addLoRA freezes the base")
        let parameters = model.trainableParameters
        XCTAssertEqual(parameters.count, 28)
        XCTAssertEqual(parameters.prefix(3).map(\.name), ["model.layers.0.self_attn.q_proj.lora_A.weight",
                                                         "model.layers.0.self_attn.q_proj.lora_B.weight",
                                                         "model.layers.0.self_attn.k_proj.lora_A.weight"])
        XCTAssertEqual(parameters.last?.name, "model.layers.1.mlp.down_proj.lora_B.weight")
        XCTAssertTrue(parameters.allSatisfy(\.decays))
        for (name, adapter) in model.loraModules {
            let bound = 1 / Float(adapter.a.shape[1]).squareRoot()
            let a = adapter.a.toArray()
            XCTAssertTrue(a.allSatisfy { abs($0) <= bound }, "\(name): A within ±1/sqrt(in)")
            XCTAssertGreaterThan(a.max()! - a.min()!, bound, "\(name): A spread over its range")
            XCTAssertTrue(adapter.b.toArray().allSatisfy { $0 == 0 }, "\(name): B starts at zero")
        }
        XCTAssertLessThan(maxAbsDifference(model.tokenLogProbs(sequences), base.map { $0.map(Double.init) }), 1e-5)
    }

    func testDropoutIsSeededAndOffWithoutGrad() {
        func adapter() -> LoRAAdapter {
            var generator = SeededGenerator(seed: 5)
            let lora = LoRAAdapter(inFeatures: 12, outFeatures: 7, rank: 3, scale: 2, dropout: 0.5, generator: &generator)
            lora.b.withUnsafeMutableElements { for i in $0.indices { $0[i] = Float(i % 5) - 2 } }
            return lora
        }
        let x = Tensor(shape: [4, 12]) { for i in $0.indices { $0[i] = Float(i % 7) * 0.1 + 0.1 } }
        let (first, second) = (adapter(), adapter())
        let firstDraw = first.delta(x).toArray()
        XCTAssertEqual(firstDraw, second.delta(x).toArray(), "the same seed draws the same masks")
        XCTAssertNotEqual(first.delta(x).toArray(), firstDraw, "each training pass draws new masks")
        let inference = Tensor.withoutGrad { first.delta(x).toArray() }
        let noDropout = LoRAAdapter(a: first.a.copied(), b: first.b.copied(), scale: 2, dropout: 0, dropoutSeed: 0)
        XCTAssertEqual(inference, Tensor.withoutGrad { noDropout.delta(x).toArray() }, "no dropout without autograd")
        XCTAssertNotEqual(firstDraw, inference)
    }

    func testAdaptersSwitchOffToTheBaseModelAndFusedProductsCarryThem() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: LoRAFixtures.peftAdapter)
        let layer = (model.decoder.layers[0] as! PreNormDecoderLayer<Attention, GatedMLP>).attention
        XCTAssertTrue(Tensor.withoutGrad { layer.qkv.isUsable }, "q_proj and v_proj have adapters; inference stays fused")
        XCTAssertFalse(layer.qkv.isUsable, "LoRA training uses the separate layers")
        var generator = SeededGenerator(seed: 9)
        let x = Tensor.uniform([2, 3, layer.qProj.inFeatures], in: -1..<1, using: &generator)
        for (fused, linear) in zip(Tensor.withoutGrad { layer.qkv(x) }, layer.qkv.layers) {
            let separate = Tensor.withoutGrad { linear(x) }.toArray()
            let error = zip(fused.toArray(), separate).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(error, 1e-5, "fused product plus adapter term vs the layer alone: \(error)")
        }
        let sequences = try LoRAFixtures.sequences()
        let base = try LanguageModel(directory: LoRAFixtures.base).tokenLogProbs(sequences)
        model.adaptersEnabled = false
        XCTAssertEqual(model.tokenLogProbs(sequences), base)
        model.adaptersEnabled = true
        XCTAssertNotEqual(model.tokenLogProbs(sequences), base)
    }

    func testFusedInferenceReadsTrainedWeightsAndTiedHeadIsOneParameter() throws {
        let model = try LanguageModel(directory: ModelFixtures.directory("qwen2_bias_tied_fp16"))
        model.makeFullyTrainable()
        XCTAssertTrue(model.head.weight === model.decoder.embedding.weight, "the tied head stays the embedding")
        let parameters = model.trainableParameters
        XCTAssertFalse(parameters.contains { $0.name == "lm_head.weight" })
        XCTAssertEqual(parameters.count, model.namedWeights.count)
        // An optimizer step, in place, on tensors that the fused q/k/v and gate/up buffers share.
        for parameter in parameters where ["q_proj.bias", "k_proj.weight", "up_proj.weight"].contains(where: parameter.name.hasSuffix) {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] += 0.05 * Float(i % 3) - 0.05 } }
        }
        let layer = (model.decoder.layers[1] as! PreNormDecoderLayer<Attention, GatedMLP>).attention
        XCTAssertTrue(Tensor.withoutGrad { layer.qkv.isUsable }, "inference uses the fused products")
        XCTAssertFalse(layer.qkv.isUsable, "training uses the separate layers")
        let sequences = [[5, 9, 31, 7, 44, 12], [3, 17, 8]]
        let fused = model.tokenLogProbs(sequences)
        let separate = model.sequenceLogProbs(sequences, scoredFrom: [1, 1]).logProbs.toArray()
        let error = zip(fused.flatMap { $0 }, separate).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(error, 1e-5, "fused inference vs separate training products: \(error)")
    }
}
