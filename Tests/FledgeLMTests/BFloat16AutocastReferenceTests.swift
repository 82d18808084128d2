import FledgeTensor
import XCTest
@testable import FledgeLM

/// `bf16: true` against PyTorch: per-token log-probabilities and full fine-tuning gradients of
/// tiny models (biases and GQA; per-head q/k norms) computed under bfloat16 `Autocast` match what
/// `torch.autocast("cpu", dtype=torch.bfloat16)` computes with the same weights
/// (`Scripts/reference/make_bf16_autocast_fixtures.py`), several times closer than bfloat16 is to
/// float32. Exact agreement is not possible: both round every product to bfloat16, so a float32
/// sum that differs in its last bit (another order of additions) can round to a neighbouring
/// bfloat16 and move everything after it by 2⁻⁹ relative; the fused gated unit also rounds once
/// where PyTorch rounds the activation and the product separately.
final class BFloat16AutocastReferenceTests: XCTestCase {
    private func fixture() throws -> [String: Any] {
        let url = Fixtures.directory.appendingPathComponent("bf16_autocast.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    private func floats(_ value: Any?) -> [Float] { (value as! [NSNumber]).map(\.floatValue) }

    func testLogProbsMatchPyTorchAutocast() throws {
        let fixture = try fixture()
        for name in ["llama_gqa_bias_linear", "qwen3_qknorm"] {
            let expected = fixture[name] as! [String: Any]
            let sequences = (expected["sequences"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let model = try LanguageModel(directory: ModelFixtures.directory(name))
            var worst: Float = 0, float32Distance: Float = 0
            for (index, sequence) in sequences.enumerated() {
                let got = Autocast.$precision.withValue(.bfloat16) { model.tokenLogProbs([sequence])[0] }
                let reference = floats((expected["logprobs_bf16"] as! [Any])[index])
                let float32 = floats((expected["logprobs_fp32"] as! [Any])[index])
                XCTAssertEqual(got.count, reference.count)
                for t in got.indices {
                    worst = max(worst, abs(got[t] - reference[t]))
                    float32Distance = max(float32Distance, abs(float32[t] - reference[t]))
                }
            }
            print("\(name): bf16 log-probs max |Fledge − PyTorch autocast| \(worst); PyTorch bf16 vs float32 \(float32Distance)")
            XCTAssertLessThan(worst, 0.02, name)
            XCTAssertLessThan(worst, float32Distance / 4, name)
        }
    }

    func testGradientsMatchPyTorchAutocast() throws {
        let fixture = try fixture()
        let stride = (fixture["stride"] as! NSNumber).intValue
        for name in ["llama_gqa_bias_linear", "qwen3_qknorm"] {
            let expected = fixture[name] as! [String: Any]
            let sequences = (expected["sequences"] as! [[NSNumber]]).map { $0.map(\.intValue) }
            let model = try LanguageModel(directory: ModelFixtures.directory(name))
            model.makeFullyTrainable()
            Autocast.$precision.withValue(.bfloat16) {
                var total: Tensor? = nil, count = 0
                for sequence in sequences {
                    let logProbs = model.sequenceLogProbs([sequence], scoredFrom: [1]).logProbs
                    total = total.map { $0 + logProbs.sum() } ?? logProbs.sum()
                    count += sequence.count - 1
                }
                (-total! / Float(count)).backward()
            }
            let parameters = Dictionary(uniqueKeysWithValues: model.namedWeights)
            for (parameter, values) in expected["grads_bf16"] as! [String: Any] {
                let reference = floats(values)
                let float32 = floats((expected["grads_fp32"] as! [String: Any])[parameter])
                let got = parameters[parameter]!.grad!.toArray()
                let sampled = Swift.stride(from: 0, to: got.count, by: stride).map { got[$0] }
                XCTAssertEqual(sampled.count, reference.count, parameter)
                let scale = reference.map(abs).max()!
                let worst = zip(sampled, reference).map { abs($0 - $1) }.max()! / scale
                let float32Distance = zip(float32, reference).map { abs($0 - $1) }.max()! / scale
                print("\(name) \(parameter): bf16 gradient max |Fledge − PyTorch autocast| \(worst) of the largest; "
                      + "PyTorch bf16 vs float32 \(float32Distance)")
                XCTAssertLessThan(worst, 0.02, "\(name) \(parameter)")
            }
        }
    }
}
