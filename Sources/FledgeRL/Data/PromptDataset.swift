import Foundation
import FledgeLM

/// A dataset of prompts for online RL (GRPO, RLOO): each row's `prompt` — text, or a list of chat
/// messages — tokenized as TRL tokenizes it, with every other column kept for reward functions.
public struct PromptDataset: Sendable {
    /// One row: its prompt as written, the prompt's token ids, and the other columns.
    public struct Row: Sendable {
        public let prompt: JSONValue
        public let promptIds: [Int]
        public let columns: JSONObject

        public init(prompt: JSONValue, promptIds: [Int], columns: JSONObject) {
            self.prompt = prompt
            self.promptIds = promptIds
            self.columns = columns
        }
    }

    /// The file the rows came from.
    public let file: URL
    /// The rows in file order.
    public let rows: [Row]

    /// Reads `file` and tokenizes each prompt: text with the tokenizer's special tokens (TRL's
    /// `processing_class(text=prompts)`), messages through the chat template with the generation
    /// prompt. Errors name the file and line of the row at fault.
    public init(file: URL, tokenizer: Tokenizer) throws {
        self.file = file
        let lines = try JSONLinesFile(url: file)
        rows = try lines.rows.map { line, object in
            guard let prompt = object["prompt"] else {
                throw DatasetError(file: file.path, line: line, "no 'prompt' column (found: \(object.keys.joined(separator: ", "))); "
                    + "each row needs a 'prompt' (text or a list of chat messages) plus any columns the rewards read")
            }
            let ids: [Int]
            switch prompt {
            case .string(let text):
                ids = tokenizer.encode(text, addSpecialTokens: true)
            case .array(let messages):
                do {
                    ids = try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true).ids
                } catch {
                    throw DatasetError(file: file.path, line: line, "the chat template failed on the prompt: \(error)")
                }
            default:
                throw DatasetError(file: file.path, line: line, "'prompt' is \(prompt.kind); it must be text or a list of "
                    + "chat messages ({\"role\": …, \"content\": …})")
            }
            guard !ids.isEmpty else {
                throw DatasetError(file: file.path, line: line, "the prompt tokenizes to no tokens; give it some text")
            }
            let columns = JSONObject(object.entries.filter { $0.key != "prompt" }.map { ($0.key, $0.value) })
            return Row(prompt: prompt, promptIds: ids, columns: columns)
        }
    }

    /// A dataset from rows already in memory (the demo, library users).
    public init(rows: [Row], file: URL) {
        self.rows = rows
        self.file = file
    }
}
