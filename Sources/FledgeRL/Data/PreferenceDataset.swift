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
        guard !split.rows.isEmpty else { throw DatasetError(file: split.source, "the split has no rows") }
        let examples = try split.rows.indices.map { index throws(DatasetError) in
            let position = split.position(of: index)
            return (position, try PreferenceExample(row: split.rows[index], at: position))
        }
        let conversational = examples.map { if case .conversation = $0.1 { true } else { false } }
        if let index = conversational.firstIndex(where: { $0 != conversational[0] }) {
            let (kind, firstKind) = conversational[0] ? ("text", "chat-message") : ("chat-message", "text")
            throw DatasetError(at: examples[index].0, "a \(kind) row, but \(examples[0].0.label) is a "
                + "\(firstKind) row; every row must have the same shape")
        }
        isConversational = conversational[0]
        var pairs: [PreferencePair] = []
        for (position, example) in examples {
            do {
                if let pair = try encoder.encode(example) { pairs.append(pair) }
            } catch let error as TemplateError {
                throw DatasetError(at: position, "the chat template failed: \(error)")
            } catch let error as DatasetError {
                throw DatasetError(at: position, "\(error)")
            }
        }
        droppedCount = examples.count - pairs.count
        guard !pairs.isEmpty else {
            throw DatasetError(file: source, "every row's prompt fills max_length (\(encoder.maxLength.map(String.init) ?? "none")) "
                + "tokens, leaving no completion to train on; raise max_length or shorten the prompts")
        }
        self.pairs = pairs
    }
}
