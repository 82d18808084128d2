import Foundation
import FledgeLM

/// A tokenized unpaired example as KTO trains on it.
public struct UnpairedSequence: Equatable, Sendable {
    /// The prompt followed by its own completion.
    public var sequence: CompletionSequence
    /// The prompt followed by another row's completion (TRL's `KL_completion_ids`), whose log-ratio
    /// estimates the KL term; nil when the loss has no KL term.
    public var mismatched: CompletionSequence?
    /// True for a desirable completion.
    public var label: Bool

    public init(sequence: CompletionSequence, mismatched: CompletionSequence?, label: Bool) {
        self.sequence = sequence
        self.mismatched = mismatched
        self.label = label
    }
}

/// A KTO split of `prompt`/`completion`/`label` rows read from its data files and tokenized for
/// training, with the mismatched sequences of the KL estimate as TRL builds them. A split whose
/// first row has `chosen` and `rejected` columns is read as paired rows and unpaired as TRL does.
public struct UnpairedPreferenceDataset: Sendable {
    /// The files the rows came from, as a phrase for messages (``DatasetSplit/source``).
    public let source: String
    /// Whether the rows are chat messages (else plain text).
    public let isConversational: Bool
    /// The tokenized rows, in file order.
    public let rows: [UnpairedSequence]
    /// Rows TRL drops: their prompt fills `max_length`, leaving no completion.
    public let droppedCount: Int

    /// Reads and tokenizes the data file `file` (see ``init(split:encoder:mismatchedBatchSize:)``).
    public init(file: URL, encoder: UnpairedPreferenceEncoder, mismatchedBatchSize: Int?) throws {
        try self.init(split: DatasetSplit(file: file), encoder: encoder, mismatchedBatchSize: mismatchedBatchSize)
    }

    /// Tokenizes the rows of `split`; errors name the file and the line or row at fault. With a
    /// `mismatchedBatchSize` (KTO's `per_device_train_batch_size`, when the loss estimates the KL
    /// term), each row also gets a mismatched sequence: the kept rows, in file order, are cut into
    /// batches of that size and within each batch the completions rotate by one, so row i's prompt
    /// meets row i − 1's completion and the first row's the last's (TRL's `add_kl_completion_ids`,
    /// a batched `map` after the too-long rows are dropped).
    public init(split: DatasetSplit, encoder: UnpairedPreferenceEncoder, mismatchedBatchSize: Int?) throws {
        source = split.source
        let first = split.rows.first?.droppingNulls()
        let examples = if first?["chosen"] != nil && first?["rejected"] != nil {
            ExampleSplit(examples: try Self.unpaired(split))
        } else {
            try ExampleSplit<UnpairedPreferenceExample>(split)
        }
        isConversational = examples.isConversational
        let kept: [UnpairedTokens]
        (kept, droppedCount) = try examples.encoded(
            source: source,
            noneKept: "every row's prompt fills max_length (\(encoder.maxLength.map(String.init) ?? "none")) "
                + "tokens, leaving no completion to train on; raise max_length or shorten the prompts",
            encoder.encode)
        rows = kept.indices.map { index in
            let tokens = kept[index]
            let mismatched = mismatchedBatchSize.map { batchSize in
                let start = index - index % batchSize, end = Swift.min(start + batchSize, kept.count)
                let other = index == start ? end - 1 : index - 1
                return encoder.sequence(prompt: tokens.prompt, completion: kept[other].completion)
            }
            return UnpairedSequence(sequence: encoder.sequence(prompt: tokens.prompt, completion: tokens.completion),
                                    mismatched: mismatched, label: tokens.label)
        }
    }

    /// TRL's `unpair_preference_dataset` of a split of paired `prompt`/`chosen`/`rejected` rows (read as
    /// DPO reads them): in chunks of 1,000 rows (the batches of the `datasets` map it runs), each
    /// chunk's chosen completions (desirable) and then its rejected ones (undesirable), each with its
    /// row's prompt and position.
    static func unpaired(_ split: DatasetSplit) throws(DatasetError) -> [(position: DatasetRowPosition, example: UnpairedPreferenceExample)] {
        let pairs = try ExampleSplit<PreferenceExample>(split).examples
        var examples: [(position: DatasetRowPosition, example: UnpairedPreferenceExample)] = []
        for start in stride(from: 0, to: pairs.count, by: unpairingChunk) {
            let chunk = pairs[start..<Swift.min(start + unpairingChunk, pairs.count)]
            for label in [true, false] {
                for (position, pair) in chunk {
                    switch pair {
                    case let .text(prompt, chosen, rejected):
                        examples.append((position, UnpairedPreferenceExample(
                            content: .text(prompt: prompt, completion: label ? chosen : rejected), label: label)))
                    case let .conversation(prompt, chosen, rejected):
                        examples.append((position, UnpairedPreferenceExample(
                            content: .conversation(prompt: prompt, completion: label ? chosen : rejected), label: label)))
                    }
                }
            }
        }
        return examples
    }

    /// Rows per chunk of TRL's unpairing (`Dataset.map`'s default batch size).
    static let unpairingChunk = 1000

    /// Rows labelled desirable, and undesirable.
    public var desirableCount: Int { rows.filter(\.label).count }
    public var undesirableCount: Int { rows.count - desirableCount }
}
