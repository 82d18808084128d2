import XCTest
@testable import FledgeLM
import FledgeTensor

/// Generation with a Q8_0 or Q4_0 base takes llama.cpp's integer decoding products (activations
/// rounded to 8 bits per block): the log-probability it reports for each sampled token stays
/// within a stated tolerance of the exact float model's (scored by teacher forcing, the path
/// that training and the transformers parity tests use), and `quantizedActivations = false`
/// gives the exact values back. The model is the tiny Llama of `Fixtures/quantized`.
final class QuantizedActivationDecodingTests: XCTestCase {
    /// The largest differences allowed between a log-probability with integer decoding products
    /// and the exact one (nats). This random model's logits are large (it is nearly certain of
    /// each next token), so the activations' 8-bit rounding (≤ 0.4 % of each block's largest
    /// value) moves its log-probs more than a trained model's: measured 0.21 (Q8_0) and 0.23
    /// (Q4_0) teacher-forced at temperature 1, 0.027 and 0.026 sampled at temperature 10.
    private let teacherForcedTolerance: Float = 0.5
    private let sampledTolerance: Float = 0.05

    /// Teacher-forced: the fixture's sequences cut to 8 tokens (so that the products have at most
    /// 8 rows, as decoding steps do) scored inside `Tensor.withQuantizedActivations`, against the
    /// exact scoring, at temperature 1.
    func testTeacherForcedLogProbsStayNearTheExactModel() throws {
        let directory = Fixtures.directory.appendingPathComponent("quantized")
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("expected.json"))) as! [String: Any]
        let sequences = intRows(expected["sequences"]).map { Array($0.prefix(8)) }
        for format in [QuantizationFormat.q8_0, .q4_0] {
            let model = try LanguageModel(directory: directory.appendingPathComponent("base"), quantization: BaseQuantization(format))
            var worst: Float = 0
            for sequence in sequences {
                let exact = model.tokenLogProbs([sequence])[0]
                let fast = Tensor.withQuantizedActivations { model.tokenLogProbs([sequence])[0] }
                worst = max(worst, zip(fast, exact).map { abs($0 - $1) }.max()!)
            }
            print("\(format): teacher-forced log-probs with quantized activations vs exact, max abs difference \(worst)")
            XCTAssertLessThan(worst, teacherForcedTolerance, "\(format)")
            XCTAssertGreaterThan(worst, 1e-6, "\(format): the integer products ran")
        }
    }

    func testSampledLogProbsStayNearTheExactModel() throws {
        let directory = Fixtures.directory.appendingPathComponent("quantized/base")
        let prompts = [[5, 18, 82, 14, 92], [66, 60, 69]]
        for format in [QuantizationFormat.q8_0, .q4_0] {
            let model = try LanguageModel(directory: directory, quantization: BaseQuantization(format))
            var options = SamplingOptions()
            options.maxNewTokens = 24
            options.ignoreEOS = true
            options.seed = 11
            // This random model is nearly certain of its next token at temperature 1 (log-probs
            // round to 0); at 10 its distributions are spread, so that differences show.
            options.temperature = 10
            XCTAssertTrue(options.quantizedActivations, "fast decoding is the default")
            for exact in [false, true] {
                options.quantizedActivations = !exact
                var worst: Float = 0
                for (prompt, generated) in zip(prompts, model.generate(prompts, options: options)) {
                    let scored = model.tokenLogProbs([prompt + generated.ids], temperature: options.temperature)[0].suffix(generated.ids.count)
                    worst = max(worst, zip(generated.logProbs, scored).map { abs($0 - $1) }.max()!)
                }
                print("\(format), quantized activations \(!exact): sampled log-probs vs the exact model, max abs difference \(worst)")
                if exact {
                    XCTAssertLessThan(worst, 1e-4, "\(format): exact decoding")
                } else {
                    XCTAssertLessThan(worst, sampledTolerance, "\(format): integer decoding")
                    XCTAssertGreaterThan(worst, 1e-6, "\(format): the integer products ran (the activations are rounded)")
                }
            }
        }
    }
}
