extension QuantizedMatrix {
    /// The rows of `parts`, one part after another, as one matrix (a fused projection's weight
    /// from its layers', or rows reordered one-row views at a time). Rows are whole blocks, so this
    /// copies bytes and changes no value; nested statistics stay compressed. `name` labels errors:
    /// the parts must share a format and a row length, and all or none have nested statistics.
    public convenience init(stacking parts: [QuantizedMatrix], name: String) throws(QuantizationError) {
        guard let first = parts.first else { throw .cannotStack(weight: name, problem: "there are no matrices to stack") }
        if let other = parts.first(where: { $0.format != first.format || $0.columns != first.columns }) {
            throw .cannotStack(weight: name, problem: "a \(other.format.rawValue) [\(other.rows), \(other.columns)] matrix "
                + "cannot follow a \(first.format.rawValue) [\(first.rows), \(first.columns)] one (format and columns must match)")
        }
        if parts.contains(where: { ($0.nestedAbsmax == nil) != (first.nestedAbsmax == nil) }) {
            throw .cannotStack(weight: name, problem: "matrices with nested absmax statistics cannot be stacked with matrices without "
                + "(quantize every part with use_bnb_nested_quant, or none)")
        }
        var blocks: [UInt8] = []
        var groups: [NestedAbsmaxRows.Group] = []
        var rows = 0, rowBytes = 0
        for part in parts {
            part.withBlocks { start, partRowBytes in
                blocks.append(contentsOf: UnsafeBufferPointer(start: start, count: part.rows * partRowBytes))
                rowBytes = partRowBytes
            }
            if let nested = part.nestedAbsmax {
                groups += nested.rows(part.storedRows, blocksPerRow: part.columns / 64).map { group in
                    NestedAbsmaxRows.Group(rows: (group.rows.lowerBound + rows)..<(group.rows.upperBound + rows),
                                           firstBlock: group.firstBlock, scales: group.scales, offset: group.offset)
                }
            }
            rows += part.rows
        }
        guard first.nestedAbsmax != nil else {
            try self.init(format: first.format, rows: rows, columns: first.columns, blocks: blocks, name: name)
            return
        }
        self.init(format: first.format, rows: rows, columns: first.columns, rowBytes: rowBytes, blocks: blocks, firstRow: 0,
                  nestedAbsmax: NestedAbsmaxRows(groups: groups))
    }
}
