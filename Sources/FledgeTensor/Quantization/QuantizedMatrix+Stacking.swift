extension QuantizedMatrix {
    /// The rows of `parts`, one part after another, as one matrix (a fused projection's weight
    /// from its layers', or rows reordered one-row views at a time). Rows are whole blocks, so this
    /// copies bytes and changes no value. `name` labels errors: the parts must share a format and a
    /// row length.
    public convenience init(stacking parts: [QuantizedMatrix], name: String) throws(QuantizationError) {
        guard let first = parts.first else { throw .cannotStack(weight: name, problem: "there are no matrices to stack") }
        if let other = parts.first(where: { $0.format != first.format || $0.columns != first.columns }) {
            throw .cannotStack(weight: name, problem: "a \(other.format.rawValue) [\(other.rows), \(other.columns)] matrix "
                + "cannot follow a \(first.format.rawValue) [\(first.rows), \(first.columns)] one (format and columns must match)")
        }
        var blocks: [UInt8] = []
        blocks.reserveCapacity(parts.reduce(0) { $0 + $1.byteCount })
        for part in parts {
            part.withBlocks { start, rowBytes in blocks.append(contentsOf: UnsafeBufferPointer(start: start, count: part.rows * rowBytes)) }
        }
        try self.init(format: first.format, rows: parts.reduce(0) { $0 + $1.rows }, columns: first.columns, blocks: blocks, name: name)
    }
}
