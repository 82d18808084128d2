import Foundation
import XCTest
@testable import FledgeLM

/// The fixture model directories written by `Scripts/reference/make_model_fixtures.py`.
enum ModelFixtures {
    static let models = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/models")

    static func directory(_ name: String) -> URL { models.appendingPathComponent(name) }

    static func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory(name).appendingPathComponent("expected.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    static let causal = ["llama_gqa_bias_linear", "llama3_tied_bf16", "llama_dynamic_sharded", "mistral_sliding",
                         "qwen2_bias_tied_fp16", "qwen3_qknorm"]
    static let classifiers = ["llama_reward", "qwen2_classifier"]
}

func ints(_ value: Any?) -> [Int] { (value as! [NSNumber]).map(\.intValue) }
func intRows(_ value: Any?) -> [[Int]] { (value as! [[NSNumber]]).map { $0.map(\.intValue) } }
func floats(_ value: Any?) -> [Float] { (value as! [NSNumber]).map(\.floatValue) }

/// A scratch copy of a fixture directory, removed at the end of the test.
func scratchCopy(of name: String, _ test: XCTestCase) throws -> URL {
    let target = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString)")
    try FileManager.default.copyItem(at: ModelFixtures.directory(name), to: target)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: target) }
    return target
}
