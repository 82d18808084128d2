import Foundation
import XCTest
@testable import FledgeLM
import FledgeTensor

/// The fixtures of `Scripts/reference/make_family_fixtures.py` (Fixtures/families/<model_type>
/// and <model_type>_classifier) and the comparisons every family's tests make with them.
enum GemmaFixtureChecks {
    static let root = Fixtures.directory.appendingPathComponent("families")

    static func directory(_ name: String) -> URL { root.appendingPathComponent(name) }

    static func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory(name).appendingPathComponent("expected.json"))) as! [String: Any]
    }

    /// The largest |log-prob − transformers'| of the `score` sequences, each alone and all in one
    /// left-padded batch (against `batch_logprobs`).
    static func logProbErrors(_ name: String, configFile: String = "config.json") throws -> (alone: Double, batch: Double) {
        let model = try LanguageModel(directory: try directory(name, withConfig: configFile))
        let cases = try expected(name)["score"] as! [[String: Any]]
        let sequences = cases.map { ints($0["ids"]) }
        let alone = maxAbsDifference(sequences.map { model.tokenLogProbs([$0])[0] },
                                         cases.map { ($0["logprobs"] as! [NSNumber]).map(\.doubleValue) })
        let batch = maxAbsDifference(model.tokenLogProbs(sequences),
                                         cases.map { ($0["batch_logprobs"] as! [NSNumber]).map(\.doubleValue) })
        return (alone, batch)
    }

    /// `name`'s directory, or a copy of it whose config.json is its `configFile` (e.g. the
    /// transformers 4 layout, `config.transformers4.json`).
    static func directory(_ name: String, withConfig configFile: String) throws -> URL {
        guard configFile != "config.json" else { return directory(name) }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: directory(name), to: copy)
        try FileManager.default.removeItem(at: copy.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: copy.appendingPathComponent(configFile), to: copy.appendingPathComponent("config.json"))
        return copy
    }

    /// Asserts that 30 greedy tokens of each prompt, alone and as a left-padded batch, are transformers'.
    static func assertGreedyMatches(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try LanguageModel(directory: directory(name))
        let greedy = try expected(name)["greedy"] as! [String: Any]
        XCTAssertEqual(Set(model.generationConfig.eosTokenIds), Set(ints(greedy["eos"])), "\(name): EOS ids", file: file, line: line)
        var options = SamplingOptions()
        options.greedy = true
        options.maxNewTokens = 30
        let prompts = intRows(greedy["prompts"])
        for (prompt, expected) in zip(prompts, intRows(greedy["new_ids"])) {
            XCTAssertEqual(model.generate([prompt], options: options)[0].ids, expected, "\(name): prompt \(prompt) alone",
                           file: file, line: line)
        }
        XCTAssertEqual(model.generate(prompts, options: options).map(\.ids), intRows(greedy["batch_new_ids"]),
                       "\(name): left-padded batch", file: file, line: line)
    }

    /// The largest |score − transformers'| of the classifier fixture, alone and batched.
    static func classifierError(_ name: String) throws -> Double {
        let model = try SequenceClassifier(directory: directory(name))
        let expected = try expected(name)["classifier"] as! [String: Any]
        let sequences = intRows(expected["sequences"])
        let alone = sequences.map { model.classify([$0])[0] }
        let batch = model.classify(sequences)
        return max(maxAbsDifference(alone, (expected["scores"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }),
                   maxAbsDifference(batch, (expected["batch_scores"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }))
    }

    /// The fixture's PEFT adapter on the model: the largest |log-prob − PEFT's| of the LoRA
    /// sequence, and the largest error of d(Σ log-probs)/d(every lora_A and lora_B) relative to
    /// each tensor's largest value, with the names of the parameters and of PEFT's gradients;
    /// with `gradientCheckpointing`, each layer is recomputed in the backward.
    static func loraErrors(_ name: String, gradientCheckpointing: Bool = false)
        throws -> (logProbs: Double, gradients: Double, names: [String], peftNames: [String]) {
        let model = try LanguageModel(directory: directory(name))
        model.gradientCheckpointing = gradientCheckpointing
        try model.loadAdapter(from: directory(name).appendingPathComponent("peft_adapter"))
        let lora = try expected(name)["lora"] as! [String: Any]
        let sequence = ints(lora["sequence"])
        let logProbs = model.sequenceLogProbs([sequence], scoredFrom: [1]).logProbs
        let logProbError = maxAbsDifference([logProbs.toArray()], [(lora["peft_logprobs"] as! [NSNumber]).map(\.doubleValue)])
        logProbs.sum().backward()
        let reference = try SafeTensorsFile(url: directory(name).appendingPathComponent("peft_grads.safetensors"))
        var worst = 0.0
        for parameter in model.trainableParameters {
            worst = max(worst, relativeError(parameter.tensor.grad!.toArray(), try reference.tensor(parameter.name).toArray()))
        }
        return (logProbError, worst, model.trainableParameters.map(\.name).sorted(), reference.names)
    }
}

extension GemmaFixtureChecks {
    /// A scratch copy of fixture `name` (removed at the end of `test`) whose config.json `edit` has changed.
    static func copy(_ name: String, _ test: XCTestCase, editingConfig edit: (inout [String: Any]) -> Void) throws -> URL {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: directory(name), to: target)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: target) }
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
}
