import FledgeLM

/// The reading loop of the splits DPO, KTO and reward modelling train on: every row of a split parsed
/// into an ``DatasetExample``, all of one shape, each encoded for training or dropped (as TRL filters
/// rows that do not fit `max_length`); errors name the file and the line or row at fault.
struct ExampleSplit<Example: DatasetExample> {
    /// The examples with the position of the row each came from, in file order.
    let examples: [(position: DatasetRowPosition, example: Example)]

    /// Parses every row of `split`; throws when it has no rows or a row is malformed.
    init(_ split: DatasetSplit) throws(DatasetError) {
        guard !split.rows.isEmpty else { throw DatasetError(file: split.source, "the split has no rows") }
        examples = try split.rows.indices.map { index throws(DatasetError) in
            let position = split.position(of: index)
            return (position, try Example(row: split.rows[index], at: position))
        }
    }

    /// Examples made otherwise (KTO's unpairing of paired rows); at least one.
    init(examples: [(position: DatasetRowPosition, example: Example)]) {
        precondition(!examples.isEmpty, "a split of no examples")
        self.examples = examples
    }

    /// Whether the rows are chat messages (the first row's shape, which every row shares once encoded).
    var isConversational: Bool { examples[0].example.isConversational }

    /// Each example `encode`d, in order, leaving out those it drops (nil), and how many it dropped; throws
    /// when a row's shape differs from the first's, when encoding a row fails (naming the row), and
    /// `noneKept` (naming `source`) when every row is dropped.
    func encoded<Encoded>(source: String, noneKept: @autoclosure () -> String,
                          _ encode: (Example) throws -> Encoded?) throws -> (encoded: [Encoded], droppedCount: Int) {
        let first = examples[0]
        if let other = examples.first(where: { $0.example.shape != first.example.shape }) {
            throw DatasetError(at: other.position, "a \(other.example.shape), but \(first.position.label) is a "
                + "\(first.example.shape); every row must have the same shape")
        }
        var kept: [Encoded] = []
        for (position, example) in examples {
            do {
                if let value = try encode(example) { kept.append(value) }
            } catch let error as TemplateError {
                throw DatasetError(at: position, "the chat template failed: \(error)")
            } catch let error as DatasetError {
                throw DatasetError(at: position, "\(error)")
            }
        }
        guard !kept.isEmpty else { throw DatasetError(file: source, noneKept()) }
        return (kept, examples.count - kept.count)
    }
}
