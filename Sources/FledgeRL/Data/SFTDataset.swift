import Foundation
import FledgeLM

/// An SFT split read from its data files and tokenized for training.
public struct SFTDataset: Sendable {
    /// The files the rows came from, as a phrase for messages (``DatasetSplit/source``).
    public let source: String
    /// The kind of rows (every row has the same).
    public let format: SFTExample.Format
    /// Unpacked: the tokenized examples that have at least one trained token, in file order.
    /// Packed: the rows ``SFTPacking`` makes of every example (TRL keeps those without a trained token).
    public let sequences: [SFTSequence]
    /// Examples left without a trained token by truncation and dropped, as TRL drops them (unpacked only).
    public let droppedCount: Int

    /// Reads and tokenizes the data file `file` (see ``init(split:tokenizer:config:evaluation:)``).
    public init(file: URL, tokenizer: Tokenizer, config: SFTConfig, evaluation: Bool = false) throws {
        try self.init(split: DatasetSplit(file: file), tokenizer: tokenizer, config: config, evaluation: evaluation)
    }

    /// Tokenizes the rows of `split` with `config`'s `dataset_text_field`, `completion_only_loss`,
    /// `assistant_only_loss`, `max_length` and `truncation_mode`, then packs them when `packing` (for
    /// an `evaluation` split: `eval_packing`, else `packing`) is on. Errors name the file and line or
    /// row at fault; a config field out of its range (a config built in code) is a ``ConfigRangeError``.
    public init(split: DatasetSplit, tokenizer: Tokenizer, config: SFTConfig, evaluation: Bool = false) throws {
        try config.checkRanges()
        let packing = evaluation ? config.packsEvaluation : config.packing
        if packing && config.maxLength == nil {
            throw DatasetError(file: split.source, "packing needs max_length, the length of a packed row; set max_length")
        }
        source = split.source
        guard !split.rows.isEmpty else { throw DatasetError(file: split.source, "the split has no rows") }
        let examples = try split.rows.indices.map { index throws(DatasetError) in
            let position = split.position(of: index)
            return (position, try SFTExample(row: split.rows[index], textField: config.datasetTextField, at: position))
        }
        let (firstPosition, first) = examples[0]
        format = first.format
        if let (position, other) = examples.first(where: { $0.1.format != first.format }) {
            throw DatasetError(at: position, "a \(other.format.rawValue) row, but \(firstPosition.label) is a "
                + "\(first.format.rawValue) row; every row of a dataset must have the same columns")
        }
        let file = split.source
        if config.completionOnlyLoss == true && !format.hasPrompt {
            throw DatasetError(file: file, "completion_only_loss is true, but the rows are \(format.rawValue) rows "
                + "without a prompt; use prompt/completion rows or remove completion_only_loss")
        }
        if config.assistantOnlyLoss && !format.isConversational {
            throw DatasetError(file: file, "assistant_only_loss is true, but the rows are \(format.rawValue) rows; "
                + "it needs conversations ('messages', or 'prompt'/'completion' as lists of messages)")
        }
        let encoder = SFTEncoder(tokenizer: tokenizer, completionOnlyLoss: config.completionOnlyLoss ?? format.hasPrompt,
                                 assistantOnlyLoss: config.assistantOnlyLoss, maxLength: packing ? nil : config.maxLength,
                                 truncationMode: config.truncationMode)
        var sequences: [SFTSequence] = []
        for (position, example) in examples {
            let sequence: SFTSequence
            do {
                sequence = try encoder.encode(example)
            } catch let error as TemplateError {
                throw DatasetError(at: position, "the chat template failed: \(error)")
            } catch let error as DatasetError {
                throw DatasetError(at: position, "\(error)")
            }
            if packing || sequence.trained.contains(true) { sequences.append(sequence) }
        }
        droppedCount = examples.count - sequences.count
        if let length = config.maxLength, packing {
            if config.shuffleDataset {
                let seed = UInt64(bitPattern: Int64(config.training.seed))
                sequences = EpochOrder.shuffled(count: sequences.count, seed: seed, epoch: 0).map { sequences[$0] }
            }
            sequences = SFTPacking.pack(sequences, length: length, strategy: config.packingStrategy)
            if !config.isPaddingFree {
                // TRL's collator uses the documents only padding-free (bfd `packing`): an evaluation
                // split packed by `eval_packing` alone runs each row as one sequence.
                sequences = sequences.map { SFTSequence(ids: $0.ids, trained: $0.trained) }
            }
            guard sequences.contains(where: { $0.targetCount > 0 }) else {
                throw DatasetError(file: file, "no packed row has a trained token; check completion_only_loss, "
                    + "assistant_only_loss and the rows")
            }
        }
        guard !sequences.isEmpty else {
            throw DatasetError(file: file, "every example lost its trained tokens to truncation at max_length "
                + "\(config.maxLength.map(String.init) ?? "none"); raise max_length or shorten the prompts")
        }
        self.sequences = sequences
    }
}
