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
    /// The 1-based line of each row in `file`, when the rows were read from it.
    private let lines: [Int]?

    /// Reads `file` and tokenizes each prompt: text with the tokenizer's special tokens (TRL's
    /// `processing_class(text=prompts)`), messages through the chat template with the generation
    /// prompt. Errors name the file and line of the row at fault.
    public init(file: URL, tokenizer: Tokenizer) throws {
        self.file = file
        let source = try JSONLinesFile(url: file)
        lines = source.rows.map(\.line)
        rows = try source.rows.map { line, object in
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
        lines = nil
    }

    /// Throws a ``DatasetError`` naming the first row (and listing the others) whose prompt, followed
    /// by `completionTokens` (the setting `completionField`) more tokens, needs more positions than
    /// the model has: `max_seq_length` when set, else the model's `max_position_embeddings`. TRL no
    /// longer truncates prompts (it removed `max_prompt_length`), so such rows are refused, not cut.
    /// A completion length that leaves no room for any prompt is a ``TrainingError/invalidSetting(_:)``.
    public func requirePromptsFit(model: LanguageModel, maxSeqLength: Int?, completionTokens: Int,
                                  completionField: String) throws {
        let positions = maxSeqLength ?? model.config.maxPositionEmbeddings
        let limit = maxSeqLength == nil ? "the model's max_position_embeddings" : "max_seq_length"
        guard completionTokens < positions else {
            throw TrainingError.invalidSetting("\(completionField) is \(completionTokens), which leaves no room for a prompt "
                + "in \(limit) (\(positions)); set \(completionField) below \(positions)")
        }
        let tooLong = rows.indices.filter { rows[$0].promptIds.count > positions - completionTokens }
        guard let first = tooLong.first else { return }
        let more = tooLong.dropFirst().map(position)
        let shown = more.prefix(10).map(String.init).joined(separator: ", ") + (more.count > 10 ? ", …" : "")
        let others = more.isEmpty ? "" : " (and \(more.count) more \(more.count == 1 ? "row" : "rows") "
            + "\(lines == nil ? "" : more.count == 1 ? "on line " : "on lines ")\(shown))"
        let length = rows[first].promptIds.count
        throw DatasetError(file: file.path, line: lines?[first], (lines == nil ? "row \(first + 1): " : "")
            + "the prompt is \(length) tokens; with \(completionField) \(completionTokens) a sequence needs "
            + "\(length + completionTokens) positions, more than \(limit) (\(positions))\(others). Shorten or remove "
            + "such rows (prompts are not truncated), or lower \(completionField)")
    }

    /// The line of row `index` in the file, or its 1-based position for rows given in memory.
    private func position(_ index: Int) -> Int { lines?[index] ?? index + 1 }
}
