import XCTest
@testable import FledgeLM

/// A model directory with its tokenizer: text and chat prompts give transformers' ids, scores,
/// greedy continuation and decoded text.
final class TextGenerationTests: XCTestCase {
    func testTextScoringAndChatGenerationMatchTransformers() throws {
        let directory = ModelFixtures.directory("qwen2_text")
        let expected = try ModelFixtures.expected("qwen2_text")
        let tokenizer = try Tokenizer(directory: directory.path)
        let model = try LanguageModel(directory: directory)
        let ids = tokenizer.encode(expected["text"] as! String, addSpecialTokens: true)
        XCTAssertEqual(ids, ints(expected["ids"]))
        var worst: Float = 0
        for (a, e) in zip(model.tokenLogProbs([ids])[0], floats(expected["logprobs"])) { worst = max(worst, abs(a - e)) }
        print("qwen2_text: log-probs max abs error \(worst)")
        XCTAssertLessThan(worst, 1e-4)

        let message = JSONValue.object(JSONObject([("role", .string("user")), ("content", .string(expected["chat_prompt"] as! String))]))
        let chat = try tokenizer.applyChatTemplate(messages: [message], addGenerationPrompt: true).ids
        XCTAssertEqual(chat, ints(expected["chat_ids"]))
        var options = SamplingOptions(model.generationConfig)
        options.maxNewTokens = 20
        let out = model.generate([chat], options: options)[0]
        XCTAssertEqual(out.ids, ints(expected["new_ids"]))
        XCTAssertEqual(tokenizer.decode(out.ids, skipSpecialTokens: true), expected["new_text"] as! String)
    }
}
