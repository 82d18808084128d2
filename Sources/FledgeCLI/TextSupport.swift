import ArgumentParser
import Foundation
import FledgeLM

/// Text in and out of the model commands, through the model directory's tokenizer
/// (tokenizer.json, tokenizer_config.json).
enum TextSupport {
    static func tokenizer(_ directory: URL) throws -> Tokenizer {
        do {
            return try Tokenizer(directory: directory.path)
        } catch {
            throw ValidationError("text needs the model's tokenizer: \(error)")
        }
    }

    /// Token ids of `text` as `tokenizer(text)` gives them in transformers (special tokens added).
    static func encode(_ text: String, directory: URL) throws -> [Int] {
        try tokenizer(directory).encode(text, addSpecialTokens: true)
    }

    /// A single user message through the chat template, with the generation prompt.
    static func chatPrompt(_ text: String, tokenizer: Tokenizer) throws -> [Int] {
        let message = JSONValue.object(JSONObject([("role", .string("user")), ("content", .string(text))]))
        do {
            return try tokenizer.applyChatTemplate(messages: [message], addGenerationPrompt: true).ids
        } catch {
            throw ValidationError("--chat: \(error)")
        }
    }
}
