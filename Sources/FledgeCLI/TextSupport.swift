import ArgumentParser
import Foundation
import FledgeLM
import FledgeRL

/// Text in and out of the model commands: files read as UTF-8, and the model directory's tokenizer
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

    /// A single user message through the chat template, with the generation prompt and `variables`.
    static func chatPrompt(_ text: String, tokenizer: Tokenizer, variables: JSONObject = JSONObject()) throws -> [Int] {
        let message = JSONValue.object(JSONObject([("role", .string("user")), ("content", .string(text))]))
        do {
            return try tokenizer.applyChatTemplate(messages: [message], addGenerationPrompt: true, variables: variables).ids
        } catch {
            throw ValidationError("--chat: \(error)")
        }
    }

    /// The help of `--chat-template-kwargs`, shared by the commands that render chat templates.
    static let chatTemplateKwargsHelp: ArgumentHelp = "Chat-template variables as a JSON object, as TRL's chat_template_kwargs (e.g. '{\"enable_thinking\": false}')."

    /// The variables of `--chat-template-kwargs` (a JSON object), or none.
    static func chatTemplateVariables(_ text: String?) throws -> JSONObject {
        guard let text else { return JSONObject() }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(text.utf8))
        } catch {
            throw ValidationError("--chat-template-kwargs is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw ValidationError("--chat-template-kwargs must be a JSON object of variable names to values, not \(value.kind)")
        }
        return object
    }

    /// The lines of the file at `path`, cut at every `\n` byte (as Python's `split("\n")`; Swift's
    /// `Character` split would keep `\r\n` whole). Text that is not UTF-8 is an error naming the file,
    /// the line and the byte, never silently replaced: the ids of replaced text would belong to other text.
    static func lines(of path: String) throws -> [String] {
        try contents(of: path).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated()
            .map { index, line in try utf8(line, path: path, line: index + 1) }
    }

    /// The whole text of the file at `path`; as ``lines(of:)``, text that is not UTF-8 is an error.
    static func text(of path: String) throws -> String {
        try lines(of: path).joined(separator: "\n")
    }

    private static func contents(of path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(path): " + (FileManager.default.fileExists(atPath: path)
                ? "cannot read the file (permission denied or not a file)" : "no such file"))
        }
        return data
    }

    private static func utf8(_ bytes: Data.SubSequence, path: String, line: Int) throws -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        let (offset, byte) = UTF8Check.firstInvalidByte(in: bytes)!
        throw ValidationError("\(path), line \(line), \(UTF8Check.message(offset: offset, byte: byte))")
    }
}
