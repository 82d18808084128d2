import Foundation
import FledgeLM

/// A DPO split of `prompt`/`chosen`/`rejected` rows read from its data files and tokenized for
/// training.
public struct PreferenceDataset: Sendable {
    /// The files the rows came from, as a phrase for messages (``DatasetSplit/source``).
    public let source: String
    /// Whether the rows are chat messages (else plain text).
    public let isConversational: Bool
    /// The tokenized pairs, in file order.
    public let pairs: [PreferencePair]
    /// Rows TRL drops: their prompt fills `max_length` (with `keep_start`), leaving no completion.
    public let droppedCount: Int

    /// Reads and tokenizes the data file `file` (see ``init(split:encoder:)``).
    public init(file: URL, encoder: PreferenceEncoder) throws {
        try self.init(split: DatasetSplit(file: file), encoder: encoder)
    }

    /// Tokenizes the rows of `split`; errors name the file and the line or row at fault.
    public init(split: DatasetSplit, encoder: PreferenceEncoder) throws {
        source = split.source
        let examples = try ExampleSplit<PreferenceExample>(split)
        isConversational = examples.isConversational
        (pairs, droppedCount) = try examples.encoded(
            source: source,
            noneKept: "every row's prompt fills max_length (\(encoder.maxLength.map(String.init) ?? "none")) "
                + "tokens, leaving no completion to train on; raise max_length or shorten the prompts",
            encoder.encode)
    }
}
