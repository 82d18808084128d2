import Foundation
import FledgeLM

/// A DPO split read from a JSON Lines file of `prompt`/`chosen`/`rejected` rows and tokenized for
/// training.
public struct PreferenceDataset: Sendable {
    /// The file the rows came from.
    public let file: URL
    /// Whether the rows are chat messages (else plain text).
    public let isConversational: Bool
    /// The tokenized pairs, in file order.
    public let pairs: [PreferencePair]
    /// Rows TRL drops: their prompt fills `max_length` (with `keep_start`), leaving no completion.
    public let droppedCount: Int

    /// Reads and tokenizes `file`; errors name the file and the line of the row at fault.
    public init(file: URL, encoder: PreferenceEncoder) throws {
        self.file = file
        let lines = try JSONLinesFile(url: file)
        let examples = try lines.rows.map { (line, object) throws(DatasetError) in
            (line, try PreferenceExample(row: object, file: file.path, line: line))
        }
        let conversational = examples.map { if case .conversation = $0.1 { true } else { false } }
        if let index = conversational.firstIndex(where: { $0 != conversational[0] }) {
            let (kind, firstKind) = conversational[0] ? ("text", "chat-message") : ("chat-message", "text")
            throw DatasetError(file: file.path, line: examples[index].0, "a \(kind) row, but line \(examples[0].0) is a "
                + "\(firstKind) row; every row must have the same shape")
        }
        isConversational = conversational[0]
        var pairs: [PreferencePair] = []
        for (line, example) in examples {
            do {
                if let pair = try encoder.encode(example) { pairs.append(pair) }
            } catch let error as TemplateError {
                throw DatasetError(file: file.path, line: line, "the chat template failed: \(error)")
            } catch let error as DatasetError {
                throw DatasetError(file: file.path, line: line, "\(error)")
            }
        }
        droppedCount = examples.count - pairs.count
        guard !pairs.isEmpty else {
            throw DatasetError(file: file.path, "every row's prompt fills max_length (\(encoder.maxLength.map(String.init) ?? "none")) "
                + "tokens, leaving no completion to train on; raise max_length or shorten the prompts")
        }
        self.pairs = pairs
    }
}
