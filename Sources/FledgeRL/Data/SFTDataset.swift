import Foundation
import FledgeLM

/// An SFT split read from a JSON Lines file and tokenized for training.
public struct SFTDataset: Sendable {
    /// The file the rows came from.
    public let file: URL
    /// The kind of rows (every row has the same).
    public let format: SFTExample.Format
    /// The tokenized examples that have at least one trained token, in file order.
    public let sequences: [SFTSequence]
    /// Examples left without a trained token by truncation and dropped, as TRL drops them.
    public let droppedCount: Int

    /// Reads and tokenizes `file` with `config`'s `dataset_text_field`, `completion_only_loss`,
    /// `assistant_only_loss`, `max_length` and `truncation_mode`. Errors name the file and line of the row at fault;
    /// a config field out of its range (a config built in code) is a ``ConfigRangeError``.
    public init(file: URL, tokenizer: Tokenizer, config: SFTConfig) throws {
        try config.checkRanges()
        self.file = file
        let lines = try JSONLinesFile(url: file)
        let examples = try lines.rows.map { (line, object) throws(DatasetError) in
            (line, try SFTExample(row: object, textField: config.datasetTextField, file: file.path, line: line))
        }
        let (firstLine, first) = examples[0]
        format = first.format
        if let (line, other) = examples.first(where: { $0.1.format != first.format }) {
            throw DatasetError(file: file.path, line: line, "a \(other.format.rawValue) row, but line \(firstLine) is a "
                + "\(first.format.rawValue) row; every row of a dataset must have the same columns")
        }
        if config.completionOnlyLoss == true && !format.hasPrompt {
            throw DatasetError(file: file.path, "completion_only_loss is true, but the rows are \(format.rawValue) rows "
                + "without a prompt; use prompt/completion rows or remove completion_only_loss")
        }
        if config.assistantOnlyLoss && !format.isConversational {
            throw DatasetError(file: file.path, "assistant_only_loss is true, but the rows are \(format.rawValue) rows; "
                + "it needs conversations ('messages', or 'prompt'/'completion' as lists of messages)")
        }
        let encoder = SFTEncoder(tokenizer: tokenizer, completionOnlyLoss: config.completionOnlyLoss ?? format.hasPrompt,
                                 assistantOnlyLoss: config.assistantOnlyLoss, maxLength: config.maxLength,
                                 truncationMode: config.truncationMode)
        var sequences: [SFTSequence] = []
        for (line, example) in examples {
            let sequence: SFTSequence
            do {
                sequence = try encoder.encode(example)
            } catch let error as TemplateError {
                throw DatasetError(file: file.path, line: line, "the chat template failed: \(error)")
            } catch let error as DatasetError {
                throw DatasetError(file: file.path, line: line, "\(error)")
            }
            if sequence.trained.contains(true) { sequences.append(sequence) }
        }
        droppedCount = examples.count - sequences.count
        guard !sequences.isEmpty else {
            throw DatasetError(file: file.path, "every example lost its trained tokens to truncation at max_length "
                + "\(config.maxLength.map(String.init) ?? "none"); raise max_length or shorten the prompts")
        }
        self.sequences = sequences
    }
}
