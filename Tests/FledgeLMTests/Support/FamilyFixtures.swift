import Foundation
import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// The model-family fixtures of `Scripts/reference/make_family_fixtures.py` (Fixtures/families;
/// its README says what each exercises) and the checks every family passes against them.
enum FamilyFixtures {
    static let families = Fixtures.directory.appendingPathComponent("families")

    /// `families/<name>`: a causal LM (`smollm3`) or a classifier (`smollm3_classifier`).
    static func directory(_ name: String) -> URL { families.appendingPathComponent(name) }

    static func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory(name).appendingPathComponent("expected.json"))) as! [String: Any]
    }

    /// The largest |log-prob − transformers'| of the `score` sequences, each alone and all in one
    /// left-padded batch (against `batch_logprobs`).
    static func logProbErrors(_ model: LanguageModel, _ name: String) throws -> (alone: Double, batch: Double) {
        let cases = try expected(name)["score"] as! [[String: Any]]
        let sequences = cases.map { ints($0["ids"]) }
        let alone = sequences.enumerated().map { index, sequence in
            maxAbsDifference(model.tokenLogProbs([sequence]), [doubles(cases[index]["logprobs"])])
        }.max() ?? 0
        let batch = maxAbsDifference(model.tokenLogProbs(sequences), cases.map { doubles($0["batch_logprobs"]) })
        return (alone, batch)
    }

    /// Checks that the model's EOS ids are the fixture's, then 30 greedy tokens of each prompt
    /// alone and of all prompts as a left-padded batch against transformers' `generate`, stopping
    /// at those EOS ids.
    static func checkGreedyGenerations(_ model: LanguageModel, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let greedy = try expected(name)["greedy"] as! [String: Any]
        XCTAssertEqual(Set(model.generationConfig.eosTokenIds), Set(ints(greedy["eos"])), "\(name): EOS ids", file: file, line: line)
        var options = SamplingOptions()
        options.greedy = true
        options.maxNewTokens = 30
        options.eosTokenIds = ints(greedy["eos"])
        let prompts = intRows(greedy["prompts"])
        for (prompt, expected) in zip(prompts, intRows(greedy["new_ids"])) {
            XCTAssertEqual(model.generate([prompt], options: options)[0].ids, expected, "\(name): prompt \(prompt) alone", file: file, line: line)
        }
        XCTAssertEqual(model.generate(prompts, options: options).map(\.ids), intRows(greedy["batch_new_ids"]), "\(name): left-padded batch",
                       file: file, line: line)
    }

    /// The largest |score − transformers'| of `<name>_classifier`'s sequences, alone and batched.
    static func classifierError(_ name: String) throws -> Double {
        let model = try SequenceClassifier(directory: directory(name))
        let expected = try expected(name)["classifier"] as! [String: Any]
        let sequences = intRows(expected["sequences"])
        let alone = sequences.map { model.classify([$0])[0] }
        return max(maxAbsDifference(alone, (expected["scores"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }),
                   maxAbsDifference(model.classify(sequences), (expected["batch_scores"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }))
    }

    /// With the fixture's PEFT adapter loaded: the LoRA sequence's log-prob error (the larger of
    /// scoring it and of the differentiated pass) with the adapter on and off, the loss error,
    /// and the largest gradient error of any lora_A / lora_B relative to that tensor's largest
    /// value; the trainable names must be PEFT's. With `gradientCheckpointing`, each layer is
    /// recomputed in the backward.
    static func loraErrors(_ name: String, gradientCheckpointing: Bool = false, file: StaticString = #filePath, line: UInt = #line)
        throws -> (logProbs: Double, base: Double, loss: Double, gradients: Double) {
        let model = try LanguageModel(directory: directory(name))
        model.gradientCheckpointing = gradientCheckpointing
        try model.loadAdapter(from: directory(name).appendingPathComponent("peft_adapter"))
        let lora = try expected(name)["lora"] as! [String: Any]
        let sequence = ints(lora["sequence"])
        let base = maxAbsDifference(model.withAdaptersDisabled { model.tokenLogProbs([sequence]) }, [doubles(lora["base_logprobs"])])
        let scored = maxAbsDifference(model.tokenLogProbs([sequence]), [doubles(lora["peft_logprobs"])])
        let trained = model.sequenceLogProbs([sequence], scoredFrom: [1]).logProbs
        let logProbs = max(scored, maxAbsDifference([trained.toArray()], [doubles(lora["peft_logprobs"])]))
        let loss = trained.sum()
        loss.backward()
        let reference = try SafeTensorsFile(url: directory(name).appendingPathComponent("peft_grads.safetensors"))
        let parameters = model.trainableParameters
        guard parameters.map(\.name).sorted() == reference.names else {
            XCTFail("\(name): one parameter per PEFT LoRA weight, named alike: trainable \(parameters.map(\.name).sorted()) "
                    + "vs PEFT's \(reference.names)", file: file, line: line)
            return (logProbs, base, .infinity, .infinity)
        }
        let gradients = try parameters.map { parameter in
            relativeError(parameter.tensor.grad!.toArray(), try reference.tensor(parameter.name).toArray())
        }.max() ?? 0
        return (logProbs, base, abs(Double(loss.item()) - (lora["peft_loss"] as! Double)), gradients)
    }

    /// Checks `logProbErrors` are within 1e-4 alone and batched (`label` names the run).
    static func checkLogProbs(_ model: LanguageModel, _ name: String, label: String? = nil,
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let (alone, batch) = try logProbErrors(model, name)
        let label = label ?? name
        print("\(label): log-probs max abs error alone \(alone), left-padded batch \(batch)")
        XCTAssertLessThan(alone, 1e-4, label, file: file, line: line)
        XCTAssertLessThan(batch, 1e-4, label, file: file, line: line)
    }

    /// Checks that `name` loads as a classifier whose `classifierError` is within 1e-4.
    static func checkClassifier(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertTrue(try PretrainedModel.load(directory: directory(name)) is SequenceClassifier, name, file: file, line: line)
        let error = try classifierError(name)
        print("\(name): scores max abs error \(error)")
        XCTAssertLessThan(error, 1e-4, name, file: file, line: line)
    }

    /// Checks `loraErrors`: log-probs with the adapter on and off within 1e-4, the loss within
    /// `lossTolerance`, gradients within 1e-5 of each tensor's largest value.
    static func checkLoRA(_ name: String, gradientCheckpointing: Bool = false, lossTolerance: Double = 1e-4,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let errors = try loraErrors(name, gradientCheckpointing: gradientCheckpointing, file: file, line: line)
        let label = "\(name) LoRA (gradient checkpointing \(gradientCheckpointing))"
        print("\(label): log-probs \(errors.logProbs), adapters off \(errors.base), loss \(errors.loss), "
            + "gradients (relative to each tensor's largest value) \(errors.gradients)")
        XCTAssertLessThan(errors.logProbs, 1e-4, label, file: file, line: line)
        XCTAssertLessThan(errors.base, 1e-4, label, file: file, line: line)
        XCTAssertLessThan(errors.loss, lossTolerance, label, file: file, line: line)
        XCTAssertLessThan(errors.gradients, 1e-5, label, file: file, line: line)
    }

    private static func doubles(_ value: Any?) -> [Double] { (value as! [NSNumber]).map(\.doubleValue) }
}

extension FamilyFixtures {
    /// `name`'s directory, or a copy of it (removed at the end of `test`) whose config.json is its
    /// `configFile` (e.g. the transformers 4 layout, `config.transformers4.json`).
    static func directory(_ name: String, withConfig configFile: String, _ test: XCTestCase) throws -> URL {
        guard configFile != "config.json" else { return directory(name) }
        let copy = try scratchCopy(name, test)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: copy.appendingPathComponent(configFile), to: copy.appendingPathComponent("config.json"))
        return copy
    }

    /// A scratch copy of fixture `name` (removed at the end of `test`) whose config.json `edit` has changed.
    static func copy(_ name: String, _ test: XCTestCase, editingConfig edit: (inout [String: Any]) -> Void) throws -> URL {
        let target = try scratchCopy(name, test)
        let url = target.appendingPathComponent("config.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&object)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return target
    }

    /// The message of the error loading `directory` as a causal LM throws, or nil when it loads.
    static func loadError(_ directory: URL) -> String? {
        do {
            _ = try LanguageModel(directory: directory)
            return nil
        } catch {
            return "\(error)"
        }
    }

    private static func scratchCopy(_ name: String, _ test: XCTestCase) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: directory(name), to: target)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: target) }
        return target
    }
}
