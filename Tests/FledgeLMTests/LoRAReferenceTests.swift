import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// LoRA computes what PEFT computes on the same base model: log-probs of the fixture's adapters
/// within 1e-5, the base model when adapters are off, and the gradients of a weighted log-prob
/// loss with respect to every lora_A and lora_B (and, for full fine-tuning, base weights)
/// within 1e-4 of the tensor's largest value.
final class LoRAReferenceTests: XCTestCase {
    func testPEFTAdapterLogProbs() throws {
        let expected = try LoRAFixtures.expected()
        let sequences = try LoRAFixtures.sequences()
        for (adapter, key) in [(LoRAFixtures.peftAdapter, "peft_logprobs"), (LoRAFixtures.peftRSLoRA, "rslora_logprobs")] {
            let model = try LanguageModel(directory: LoRAFixtures.base)
            try model.loadAdapter(from: adapter)
            XCTAssertTrue(model.hasAdapters && model.adaptersEnabled)
            let error = maxAbsDifference(model.tokenLogProbs(sequences), LoRAFixtures.logProbRows(key, in: expected))
            let baseError = maxAbsDifference(model.withAdaptersDisabled { model.tokenLogProbs(sequences) },
                                             LoRAFixtures.logProbRows("base_logprobs", in: expected))
            print("\(adapter.lastPathComponent): log-probs max abs error \(error); adapters off vs base \(baseError)")
            XCTAssertLessThan(error, 1e-5, adapter.lastPathComponent)
            XCTAssertLessThan(baseError, 1e-5, "\(adapter.lastPathComponent) switched off")
            XCTAssertTrue(model.adaptersEnabled, "withAdaptersDisabled restores the adapters")
        }
    }

    func testRSLoRAScaleAndAllLinearTargets() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: LoRAFixtures.peftRSLoRA)
        XCTAssertEqual(model.loraOptions?.scale, 3, "lora_alpha 6 / sqrt(r 4)")
        XCTAssertEqual(model.loraModules.count, 14, "all-linear: 7 projections in each of 2 layers, no lm_head")
    }

    func testLoRAGradientsMatchPEFT() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        try model.loadAdapter(from: LoRAFixtures.peftAdapter)
        let loss = try LoRAFixtures.weightedLoss(model)
        loss.backward()
        let lossError = abs(Double(loss.item()) - (try LoRAFixtures.expected()["peft_loss"] as! Double))
        let reference = try SafeTensorsFile(url: LoRAFixtures.directory.appendingPathComponent("peft_grads.safetensors"))
        let parameters = model.trainableParameters
        XCTAssertEqual(parameters.map(\.name).sorted(), reference.names, "one parameter per PEFT LoRA weight, named alike")
        var worst = 0.0
        for parameter in parameters {
            let error = relativeError(parameter.tensor.grad!.toArray(), try reference.tensor(parameter.name).toArray())
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-4, parameter.name)
        }
        print("LoRA gradients vs PEFT: max error relative to each tensor's largest value \(worst); loss error \(lossError)")
        XCTAssertLessThan(lossError, 1e-4)
    }

    func testFullFineTuningGradientsMatchTransformers() throws {
        let model = try LanguageModel(directory: LoRAFixtures.base)
        model.makeFullyTrainable()
        try LoRAFixtures.weightedLoss(model).backward()
        let reference = try SafeTensorsFile(url: LoRAFixtures.directory.appendingPathComponent("full_grads.safetensors"))
        let parameters = Dictionary(uniqueKeysWithValues: model.trainableParameters.map { ($0.name, $0.tensor) })
        var worst = 0.0
        for name in reference.names {
            let error = relativeError(parameters[name]!.grad!.toArray(), try reference.tensor(name).toArray())
            worst = max(worst, error)
            XCTAssertLessThan(error, 1e-4, name)
        }
        print("full fine-tuning gradients vs transformers: max error relative to each tensor's largest value \(worst)")
    }
}
