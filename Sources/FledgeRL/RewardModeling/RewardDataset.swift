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
        let examples = try ExampleSplit<RewardExample>(split)
        isConversational = examples.isConversational
        (pairs, droppedCount) = try examples.encoded(
            source: source,
            noneKept: "every row has a chosen or rejected sequence longer than max_length "
                + "(\(encoder.maxLength.map(String.init) ?? "none")) tokens; raise max_length or shorten the rows",
            encoder.encode)
    }
}

extension RewardExample: DatasetExample {
    /// The row's shape in words, for the error when rows differ.
    public var shape: String {
        let kind = switch content {
        case .text(let prompt, _, _): prompt == nil ? "text answers" : "text with a prompt"
        case .conversation(let prompt, _, _): prompt == nil ? "chat answers" : "chat messages with a prompt"
        case .tokens: "token ids"
        }
        return "row of " + kind + (margin == nil ? "" : " and a margin")
    }

    public var isConversational: Bool { content.isConversational }
}
