import Foundation
import XCTest
@testable import FledgeLM
import FledgeNN
import FledgeTensor

/// The fixtures of `Scripts/reference/make_lora_fixtures.py` (Fixtures/lora) and helpers for
/// comparing with them.
enum LoRAFixtures {
    static let directory = Fixtures.directory.appendingPathComponent("lora")
    static let base = directory.appendingPathComponent("base")
    static let peftAdapter = directory.appendingPathComponent("peft_adapter")
    static let peftRSLoRA = directory.appendingPathComponent("peft_rslora")
    static let fledgeAdapter = directory.appendingPathComponent("fledge_adapter")

    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(name))) as! [String: Any]
    }

    static func expected() throws -> [String: Any] { try json("expected.json") }

    static func sequences() throws -> [[Int]] { intRows(try expected()["sequences"]) }

    static func logProbRows(_ key: String, in object: [String: Any]) -> [[Double]] {
        (object[key] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
    }

    /// The weighted loss of the fixture, sum(weight · log-prob) over the scored tokens, with autograd.
    static func weightedLoss(_ model: LanguageModel) throws -> Tensor {
        let expected = try expected()
        let logProbs = model.sequenceLogProbs(intRows(expected["sequences"]), scoredFrom: ints(expected["scored_from"])).logProbs
        let weights = floats(expected["loss_weights"])
        return (logProbs * Tensor(shape: [weights.count], values: weights)).sum()
    }

    /// The model the committed `fledge_adapter/` was saved from: the base with LoRA on q_proj,
    /// k_proj, up_proj and the second layer's down_proj (a suffix target), and every B set from a
    /// seeded generator so that the adapter matters.
    static func fledgeAdapterModel() throws -> LanguageModel {
        let model = try LanguageModel(directory: base)
        try model.addLoRA(LoRAOptions(r: 4, alpha: 16, dropout: 0.05,
                                      targetModules: ["q_proj", "k_proj", "up_proj", "layers.1.mlp.down_proj"], seed: 7))
        var generator = SeededGenerator(seed: 11)
        for parameter in model.trainableParameters where parameter.name.hasSuffix("lora_B.weight") {
            parameter.tensor.withUnsafeMutableElements { for i in $0.indices { $0[i] = 0.4 * generator.nextUnitFloat() - 0.2 } }
        }
        return model
    }
}

/// The largest |actual − expected| over rows of per-token log-probs.
func maxAbsDifference(_ actual: [[Float]], _ expected: [[Double]]) -> Double {
    precondition(actual.map(\.count) == expected.map(\.count), "row lengths \(actual.map(\.count)) vs \(expected.map(\.count))")
    return zip(actual, expected).flatMap { zip($0, $1).map { abs(Double($0) - $1) } }.max() ?? 0
}

/// max |actual − expected| / max |expected|: the error relative to the tensor's scale.
func relativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count)
    let scale = expected.map { abs(Double($0)) }.max() ?? 1
    return zip(actual, expected).map { abs(Double($0) - Double($1)) }.max()! / scale
}

/// A fresh temporary directory, removed at the end of the test.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}
