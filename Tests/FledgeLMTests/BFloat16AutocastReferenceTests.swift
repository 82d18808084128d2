import FledgeTensor
import XCTest
@testable import FledgeLM

/// `bf16: true` against PyTorch: per-token log-probabilities and full fine-tuning gradients of
/// tiny models (biases and GQA; per-head q/k norms) computed under bfloat16 `Autocast` are close to
/// what `torch.autocast("cpu", dtype=torch.bfloat16)` computes with the same weights
/// (`Scripts/reference/make_bf16_autocast_fixtures.py`, SDPA attention), much closer than bfloat16
/// is to float32. Exact agreement is not possible: every product is rounded to bfloat16, so a float32
/// value that differs in its last bits (another order of additions, PyTorch's approximate exp inside
/// its CPU flash-attention kernel) can round to the neighbouring bfloat16, and a logit of magnitude
/// 8 to 16 that does moves its log-prob by 2⁻⁴. With PyTorch's attention replaced by the same
/// arithmetic in float32 (bfloat16 q, k, v and exp(s − max), exact exp) the llama model's log-probs
/// equal Fledge's to the printed digits. Qwen3's q/k norms also differ in where they round
/// (transformers rounds the normalised values before the weight; Fledge rounds after the rotary
/// embedding), hence its looser bound.
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
            var errors: [Float] = [], float32Distances: [Float] = []
            for (index, sequence) in sequences.enumerated() {
                let got = Autocast.$precision.withValue(.bfloat16) { model.tokenLogProbs([sequence])[0] }
                let reference = floats((expected["logprobs_bf16"] as! [Any])[index])
                let float32 = floats((expected["logprobs_fp32"] as! [Any])[index])
                XCTAssertEqual(got.count, reference.count)
                errors += zip(got, reference).map { abs($0 - $1) }
                float32Distances += zip(float32, reference).map { abs($0 - $1) }
            }
            let mean = errors.reduce(0, +) / Float(errors.count), float32Mean = float32Distances.reduce(0, +) / Float(errors.count)
            let close = errors.filter { $0 < 1e-3 }.count
            print("\(name): bf16 log-probs |Fledge − PyTorch autocast| mean \(mean), max \(errors.max()!), within 1e-3 for \(close) of "
                  + "\(errors.count) tokens; PyTorch bf16 vs float32 mean \(float32Mean), max \(float32Distances.max()!)")
            // One bfloat16 step of a logit in [8, 16) is 2⁻⁴: a logit that rounds the other way moves its log-prob by that.
            XCTAssertLessThan(errors.max()!, 0.07, name)
            XCTAssertLessThan(mean, float32Mean * (name == "qwen3_qknorm" ? 0.8 : 0.5), name)
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
                XCTAssertLessThan(worst, 0.012, "\(name) \(parameter)")
            }
        }
    }
}
