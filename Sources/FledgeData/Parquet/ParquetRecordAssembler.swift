import FledgeJSON

/// Rebuilds a row group's rows from its leaf columns' levels and values (the Dremel record assembly):
/// nulls, empty and nested lists, structs and maps, following each top-level column's shape.
struct ParquetRecordAssembler {
    private let chunks: [ParquetColumnChunk]
    private let leaves: [ParquetSchema.Leaf]
    /// Per leaf: the next entry, and the next defined value.
    private var entry: [Int]
    private var valueIndex: [Int]

    init(chunks: [ParquetColumnChunk], leaves: [ParquetSchema.Leaf]) {
        self.chunks = chunks
        self.leaves = leaves
        entry = Array(repeating: 0, count: chunks.count)
        valueIndex = Array(repeating: 0, count: chunks.count)
    }

    /// The `count` rows, each an object of the schema's top-level columns; throws when the levels of the
    /// leaves disagree with each other or with the row count.
    mutating func rows(count: Int, schema: ParquetSchema) throws(DataFormatError) -> [JSONObject] {
        // Every row takes at least one level entry in every column.
        let fewestEntries = chunks.map(\.entryCount).min() ?? 0
        guard count >= 0, count <= fewestEntries else {
            throw DataFormatError("the row group says it holds \(count) rows, but a column holds \(fewestEntries) entries")
        }
        var rows: [JSONObject] = []
        rows.reserveCapacity(count)
        var values = [JSONValue](repeating: .null, count: schema.shapes.count)
        for row in 0..<count {
            for (index, shape) in schema.shapes.enumerated() {
                values[index] = try value(shape)
            }
            rows.append(schema.template.object(values))
            for column in chunks.indices where leaves[column].maxRepetition > 0 && entry[column] < chunks[column].entryCount {
                guard chunks[column].repetitions[entry[column]] == 0 else {
                    throw DataFormatError("column '\(leaves[column].path)': row \(row + 1) does not end where its "
                        + "repetition levels say")
                }
            }
        }
        for column in chunks.indices {
            guard entry[column] == chunks[column].entryCount, valueIndex[column] == chunks[column].values.count else {
                throw DataFormatError("column '\(leaves[column].path)' holds \(chunks[column].entryCount) entries and "
                    + "\(chunks[column].values.count) values, but \(count) rows use \(entry[column]) and \(valueIndex[column])")
            }
        }
        return rows
    }

    private mutating func value(_ shape: ParquetSchema.Shape) throws(DataFormatError) -> JSONValue {
        switch shape {
        case .leaf(let column, let definedLevel):
            let defined = try definition(column) >= definedLevel
            entry[column] += 1
            guard defined else { return .null }
            guard valueIndex[column] < chunks[column].values.count else {
                throw DataFormatError("column '\(leaves[column].path)' has fewer values than its definition levels say")
            }
            defer { valueIndex[column] += 1 }
            return chunks[column].values[valueIndex[column]]
        case .optional(let inner, let level, let leaves):
            guard try definition(leaves.lowerBound) >= level else {
                skip(leaves)
                return .null
            }
            return try value(inner)
        case .structure(let template, let fields):
            var values: [JSONValue] = []
            values.reserveCapacity(fields.count)
            for field in fields { values.append(try value(field)) }
            return .object(template.object(values))
        case .tuple(let fields):
            var values: [JSONValue] = []
            for field in fields { values.append(try value(field)) }
            return .array(values)
        case .list(let element, let definedLevel, let repetitionLevel, let leaves):
            let first = leaves.lowerBound
            guard try definition(first) >= definedLevel else {
                skip(leaves)
                return .array([])
            }
            var items: [JSONValue] = []
            repeat {
                items.append(try value(element))
            } while entry[first] < chunks[first].entryCount && chunks[first].repetitions[entry[first]] == repetitionLevel
            return .array(items)
        }
    }

    /// The definition level of leaf `column`'s next entry.
    private func definition(_ column: Int) throws(DataFormatError) -> Int {
        guard entry[column] < chunks[column].entryCount else {
            throw DataFormatError("column '\(leaves[column].path)' has fewer entries than the row group's rows need")
        }
        return chunks[column].definitions.isEmpty ? 0 : Int(chunks[column].definitions[entry[column]])
    }

    /// Passes over one entry in each of `leaves` (a null or empty value above them).
    private mutating func skip(_ leaves: Range<Int>) {
        for column in leaves { entry[column] += 1 }
    }
}
