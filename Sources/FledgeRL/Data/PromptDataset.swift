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

    /// The files the rows came from, as a phrase for messages (``DatasetSplit/source``).
    public let source: String
    /// The rows in file order.
    public let rows: [Row]
    /// Where each row is in its file, when the rows were read from files.
    private let positions: [DatasetRowPosition]?

    /// Reads the data file `file` (see ``init(split:tokenizer:)``).
    public init(file: URL, tokenizer: Tokenizer) throws {
        try self.init(split: DatasetSplit(file: file), tokenizer: tokenizer)
    }

    /// Tokenizes each prompt of `split`: text with the tokenizer's special tokens (TRL's
    /// `processing_class(text=prompts)`), messages through the chat template with the generation
    /// prompt, the template seeing `chatTemplateVariables` too (transformers' `chat_template_kwargs`,
    /// e.g. `enable_thinking`). Errors name the file and line or row at fault.
    public init(split: DatasetSplit, tokenizer: Tokenizer, chatTemplateVariables: JSONObject = JSONObject()) throws {
        source = split.source
        let positions = split.rows.indices.map(split.position(of:))
        self.positions = positions
        guard !split.rows.isEmpty else { throw DatasetError(file: split.source, "the split has no rows") }
        rows = try zip(positions, split.rows).map { position, object in
            guard let prompt = object["prompt"], prompt != .null else {
                throw DatasetError(at: position, "no 'prompt' column (found: \(object.droppingNulls().keys.joined(separator: ", "))); "
                    + "each row needs a 'prompt' (text or a list of chat messages) plus any columns the rewards read")
            }
            let ids: [Int]
            switch prompt {
            case .string(let text):
                ids = tokenizer.encode(text, addSpecialTokens: true)
            case .array(let messages):
                do {
                    ids = try tokenizer.applyChatTemplate(messages: messages, addGenerationPrompt: true,
                                                    variables: chatTemplateVariables).ids
                } catch {
                    throw DatasetError(at: position, "the chat template failed on the prompt: \(error)")
                }
            default:
                throw DatasetError(at: position, "'prompt' is \(prompt.kind); it must be text or a list of "
                    + "chat messages ({\"role\": …, \"content\": …})")
            }
            guard !ids.isEmpty else {
                throw DatasetError(at: position, "the prompt tokenizes to no tokens; give it some text")
            }
            let columns = JSONObject(object.entries.filter { $0.key != "prompt" }.map { ($0.key, $0.value) })
            return Row(prompt: prompt, promptIds: ids, columns: columns)
        }
    }

    /// A dataset from rows already in memory (the demo, library users); `file` names them in messages.
    public init(rows: [Row], file: URL) {
        self.rows = rows
        source = file.path
        positions = nil
    }

    /// Throws a ``DatasetError`` naming the first row (and listing the others) whose prompt, followed
    /// by `completionTokens` (the setting `completionField`) more tokens, needs more positions than
    /// the model has: `max_seq_length` when set, else the model's `max_position_embeddings`. TRL no
    /// longer truncates prompts (it removed `max_prompt_length`), so such rows are refused, not cut.
    /// A completion length that leaves no room for any prompt is a ``TrainingError/invalidSetting(_:)``.
    public func requirePromptsFit(model: LanguageModel, maxSeqLength: Int?, completionTokens: Int,
                                  completionField: String) throws {
        let available = maxSeqLength ?? model.config.maxPositionEmbeddings
        let limit = maxSeqLength == nil ? "the model's max_position_embeddings" : "max_seq_length"
        guard completionTokens < available else {
            throw TrainingError.invalidSetting("\(completionField) is \(completionTokens), which leaves no room for a prompt "
                + "in \(limit) (\(available)); set \(completionField) below \(available)")
        }
        let tooLong = rows.indices.filter { rows[$0].promptIds.count > available - completionTokens }
        guard let first = tooLong.first else { return }
        let more = tooLong.dropFirst()
        let onLines = more.allSatisfy { positions?[$0].line != nil }
        let shown = more.prefix(10).map { String(place($0)) }.joined(separator: ", ") + (more.count > 10 ? ", …" : "")
        let others = more.isEmpty ? "" : " (and \(more.count) more \(more.count == 1 ? "row" : "rows") "
            + "\(!onLines ? "" : more.count == 1 ? "on line " : "on lines ")\(shown))"
        let length = rows[first].promptIds.count
        let message = "the prompt is \(length) tokens; with \(completionField) \(completionTokens) a sequence needs "
            + "\(length + completionTokens) positions, more than \(limit) (\(available))\(others). Shorten or remove "
            + "such rows (prompts are not truncated), or lower \(completionField)"
        throw positions.map { DatasetError(at: $0[first], message) } ?? DatasetError(file: source, row: first + 1, message)
    }

    /// The line of row `index` in its file, or its 1-based row (in its file, or among rows given in memory).
    private func place(_ index: Int) -> Int { positions.map { $0[index].line ?? $0[index].row } ?? index + 1 }
}
