import Foundation
import XCTest
@testable import FledgeRL

/// `chat_template_kwargs` reaches the chat template wherever GRPO and RLOO render one: Qwen3's template
/// with `enable_thinking: false` ends the generation prompt with an empty think block, as transformers
/// renders it (the template itself is checked against transformers in FledgeLMTests' chat fixtures).
final class ChatTemplateKwargsTests: TemporaryDirectoryTestCase {
    private func qwen3Tokenizer() throws -> Tokenizer {
        let tokenizers = RepositoryFiles.url("Tests/FledgeLMTests/Fixtures/tokenizers/qwen2")
        let template = try String(contentsOf: RepositoryFiles.url("Tests/FledgeLMTests/Fixtures/chat/templates/qwen3.jinja"),
                                  encoding: .utf8)
        let folder = directory.appendingPathComponent("qwen3")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: tokenizers.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try template.write(to: folder.appendingPathComponent("chat_template.jinja"), atomically: false, encoding: .utf8)
        return try Tokenizer(directory: folder.path)
    }

    func testPromptsAreRenderedWithTheVariables() throws {
        let resolution = try resolve(GRPOConfig.self, """
            model_name_or_path: m
            chat_template_kwargs: {enable_thinking: false}
            """)
        XCTAssert(resolution.report.isUsable, "\(resolution.report.errors)")
        let variables = try XCTUnwrap(resolution.config.generation.chatTemplateKwargs).jsonObject
        XCTAssertEqual(variables["enable_thinking"], .bool(false))

        let tokenizer = try qwen3Tokenizer()
        let file = try writeLines([#"{"prompt": [{"role": "user", "content": "What is 2+3?"}]}"#], to: "prompts.jsonl")
        let thinking = try PromptDataset(file: file, tokenizer: tokenizer)
        let plain = try PromptDataset(split: DatasetSplit(file: file), tokenizer: tokenizer, chatTemplateVariables: variables)
        let thinkingText = tokenizer.decode(thinking.rows[0].promptIds, skipSpecialTokens: false)
        let plainText = tokenizer.decode(plain.rows[0].promptIds, skipSpecialTokens: false)
        XCTAssert(thinkingText.hasSuffix("<|im_start|>assistant\n"), thinkingText)
        XCTAssertEqual(plainText, thinkingText + "<think>\n\n</think>\n\n")
    }

    /// `fledge tokenize --chat … --chat-template-kwargs JSON` renders with the variables; a value that
    /// is not a JSON object, or the option without `--chat`, is refused.
    func testTheTokenizeCommandTakesTheVariables() throws {
        _ = try qwen3Tokenizer()
        let folder = directory.appendingPathComponent("qwen3").path
        let conversation = directory.appendingPathComponent("chat.json")
        try #"[{"role": "user", "content": "Hi"}]"#.write(to: conversation, atomically: false, encoding: .utf8)
        let base = ["tokenize", "--model", folder, "--chat", conversation.path, "--add-generation-prompt"]
        let rendered = try runFledge(base + ["--chat-template-kwargs", #"{"enable_thinking": false}"#]).output
        XCTAssert(rendered.contains(#"assistant\n<think>\n\n</think>\n\n""#), rendered)
        let refused = try runFledge(base + ["--chat-template-kwargs", "[1]"], expectSuccess: false)
        XCTAssertEqual(refused.status, 64, refused.output)
        XCTAssert(refused.output.contains("--chat-template-kwargs must be a JSON object"), refused.output)
        let withoutChat = try runFledge(["tokenize", "--model", folder, "--text", "Hi", "--chat-template-kwargs", "{}"],
                                        expectSuccess: false)
        XCTAssert(withoutChat.output.contains("--chat-template-kwargs applies with --chat"), withoutChat.output)
    }

    func testAJSONStringAndBadValues() throws {
        let json = try resolve(RLOOConfig.self, """
            model_name_or_path: m
            chat_template_kwargs: '{"enable_thinking": true, "custom": [1, 2]}'
            """)
        XCTAssertEqual(try XCTUnwrap(json.config.generation.chatTemplateKwargs).jsonObject["custom"], .array([.int(1), .int(2)]))
        let list = try resolve(GRPOConfig.self, "model_name_or_path: m\nchat_template_kwargs: [enable_thinking]")
        XCTAssert(list.report.errors.contains { $0.field == "chat_template_kwargs" && $0.text.contains("a mapping") },
                  "\(list.report.errors)")
    }
}
