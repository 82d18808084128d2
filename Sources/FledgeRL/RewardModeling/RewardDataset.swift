import Foundation
import FledgeLM

/// A reward-modelling split read from its data files and tokenized for training.
public struct RewardDataset: Sendable {
    /// The files the rows came from, as a phrase for messages (``DatasetSplit/source``).
    public let source: String
    /// Whether the rows are chat messages (else plain text or token ids).
    public let isConversational: Bool
    /// The tokenized pairs, in file order.
    public let pairs: [RewardPair]
    /// Rows TRL filters out: their chosen or rejected sequence is longer than `max_length`.
    public let droppedCount: Int

    /// Reads and tokenizes the data file `file` (see ``init(split:encoder:)``).
    public init(file: URL, encoder: RewardEncoder) throws {
        try self.init(split: DatasetSplit(file: file), encoder: encoder)
    }

    /// Tokenizes the rows of `split`; every row must have the same shape (text, messages or ids; with or
    /// without a prompt; with or without a margin). Errors name the file and the line or row at fault.
    public init(split: DatasetSplit, encoder: RewardEncoder) throws {
        source = split.source
        guard !split.rows.isEmpty else { throw DatasetError(file: split.source, "the split has no rows") }
        let examples = try split.rows.indices.map { index throws(DatasetError) in
            let position = split.position(of: index)
            return (position, try RewardExample(row: split.rows[index], at: position))
        }
        let first = examples[0]
        for (position, example) in examples.dropFirst() {
            if Self.shape(example) != Self.shape(first.1) {
                throw DatasetError(at: position, "a row of \(Self.shape(example)), but \(first.0.label) is a row of "
                    + "\(Self.shape(first.1)); every row must have the same shape")
            }
        }
        isConversational = first.1.content.isConversational
        var pairs: [RewardPair] = []
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
            throw DatasetError(file: source, "every row has a chosen or rejected sequence longer than max_length "
                + "(\(encoder.maxLength.map(String.init) ?? "none")) tokens; raise max_length or shorten the rows")
        }
        self.pairs = pairs
    }

    /// The row's shape in words, for the error when rows differ.
    private static func shape(_ example: RewardExample) -> String {
        let kind = switch example.content {
        case .text(let prompt, _, _): prompt == nil ? "text answers" : "text with a prompt"
        case .conversation(let prompt, _, _): prompt == nil ? "chat answers" : "chat messages with a prompt"
        case .tokens: "token ids"
        }
        return kind + (example.margin == nil ? "" : " and a margin")
    }
}
