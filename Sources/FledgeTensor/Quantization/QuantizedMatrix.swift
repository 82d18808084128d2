import CFledgeKernels

/// A frozen `[rows, columns]` weight (a linear layer's `[out, in]`) stored block-quantized, row
/// by row: each row is a whole number of the format's blocks.
///
/// Products with it (`Tensor.matmul(transposedQuantized:)` and its backward) never materialise
/// the float matrix: the GEMM dequantizes each weight panel as it packs it, and few-row products
/// (decoding) dequantize one row at a time into a cache-resident buffer.
///
/// An NF4/FP4 matrix with nested statistics stores compact blocks (`NestedAbsmaxRows`): 33 bytes
/// per 64 weights instead of 36, expanded to the format's blocks as they are read.
public final class QuantizedMatrix: @unchecked Sendable {
    public let format: QuantizationFormat
    public let rows: Int
    public let columns: Int
    /// The blocks, row after row (immutable after initialisation; shared by row views).
    private let blocks: [UInt8]
    private let rowBytes: Int
    /// The first row of `blocks` that is this matrix's row 0 (nonzero in a view of rows).
    private let firstRow: Int
    /// The compressed absmax of a matrix with nested statistics, whose `blocks` are compact.
    let nestedAbsmax: NestedAbsmaxRows?

    /// Quantizes a float `[rows, columns]` weight; `name` labels errors. Throws when a row is
    /// not a whole number of blocks or a value is not finite.
    ///
    /// `nestedAbsmaxRows` (NF4 and FP4 only) compresses the absmax of each group of rows as
    /// bitsandbytes' `compress_statistics` compresses one weight tensor's (`NestedAbsmax`), so
    /// that the weights dequantize to exactly bitsandbytes' nested values; give one range per
    /// checkpoint weight (a fused matrix has several), together covering every row in order.
    /// The absmax then stay compressed in memory (`NestedAbsmaxRows`).
    public convenience init(
        quantizing weight: Tensor, format: QuantizationFormat, name: String, nestedAbsmaxRows: [Range<Int>] = []
    ) throws(QuantizationError) {
        precondition(weight.rank == 2, "\(name): a quantized weight is a matrix, got \(weight.shape)")
        let (rows, columns) = (weight.shape[0], weight.shape[1])
        let block = format.blockFormat
        guard let rowBytes = block.byteCount(values: columns) else {
            throw .notWholeBlocks(weight: name, format: format.rawValue, values: columns, valuesPerBlock: block.valuesPerBlock)
        }
        if !nestedAbsmaxRows.isEmpty, !(block is any BitsAndBytes4BitFormat.Type) {
            throw .nestedAbsmaxNeedsFourBit(format: format.rawValue)
        }
        let values = weight.contiguous().toArray()
        if let bad = values.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(weight: name, index: bad) }
        var blocks = [UInt8](repeating: 0, count: rows * rowBytes)
        values.withUnsafeBufferPointer { source in
            blocks.withUnsafeMutableBytes { target in
                Parallel.forRanges(rows, minChunk: 16) { range in
                    block.quantize(UnsafeBufferPointer(rebasing: source[(range.lowerBound * columns)..<(range.upperBound * columns)]),
                                   into: UnsafeMutableRawBufferPointer(rebasing: target[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)]))
                }
            }
        }
        guard !nestedAbsmaxRows.isEmpty else {
            self.init(format: format, rows: rows, columns: columns, rowBytes: rowBytes, blocks: blocks, firstRow: 0, nestedAbsmax: nil)
            return
        }
        let blocksPerRow = columns / block.valuesPerBlock
        let (compact, statistics) = NestedAbsmaxRows.compress(blocks, rows: rows, blocksPerRow: blocksPerRow, groups: nestedAbsmaxRows)
        self.init(format: format, rows: rows, columns: columns, rowBytes: blocksPerRow * NestedAbsmaxRows.bytesPerBlock,
                  blocks: compact, firstRow: 0, nestedAbsmax: statistics)
    }

    /// Wraps blocks quantized elsewhere (a GGUF tensor, a bitsandbytes checkpoint converted to
    /// Fledge's block layout); `name` labels errors.
    public convenience init(format: QuantizationFormat, rows: Int, columns: Int, blocks: [UInt8], name: String) throws(QuantizationError) {
        let block = format.blockFormat
        guard let rowBytes = block.byteCount(values: columns) else {
            throw .notWholeBlocks(weight: name, format: format.rawValue, values: columns, valuesPerBlock: block.valuesPerBlock)
        }
        guard blocks.count == rows * rowBytes else {
            throw .notWholeBlocks(weight: name, format: format.rawValue, values: blocks.count / max(rowBytes, 1) * columns, valuesPerBlock: block.valuesPerBlock)
        }
        self.init(format: format, rows: rows, columns: columns, rowBytes: rowBytes, blocks: blocks, firstRow: 0, nestedAbsmax: nil)
    }

    /// Wraps a bitsandbytes 4-bit weight stored with nested statistics — its packed codes (32
    /// bytes per block of 64, `rows · columns / 2` in all) and its compressed absmax — keeping
    /// the absmax compressed; `name` labels errors.
    public convenience init(
        format: QuantizationFormat, rows: Int, columns: Int, packed: [UInt8], nestedAbsmax: NestedAbsmax, name: String
    ) throws(QuantizationError) {
        guard format.blockFormat is any BitsAndBytes4BitFormat.Type else { throw .nestedAbsmaxNeedsFourBit(format: format.rawValue) }
        guard columns % 64 == 0, packed.count == rows * columns / 2, nestedAbsmax.codes.count == rows * columns / 64 else {
            throw .notWholeBlocks(weight: name, format: format.rawValue, values: packed.count * 2, valuesPerBlock: 64)
        }
        let (compact, statistics) = NestedAbsmaxRows.interleave(packed: packed, absmax: nestedAbsmax, rows: rows)
        self.init(format: format, rows: rows, columns: columns, rowBytes: columns / 64 * NestedAbsmaxRows.bytesPerBlock,
                  blocks: compact, firstRow: 0, nestedAbsmax: statistics)
    }

    init(format: QuantizationFormat, rows: Int, columns: Int, rowBytes: Int, blocks: [UInt8], firstRow: Int, nestedAbsmax: NestedAbsmaxRows?) {
        self.format = format
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.blocks = blocks
        self.firstRow = firstRow
        self.nestedAbsmax = nestedAbsmax
    }

    /// Rows `range` of this matrix, sharing its blocks (a fused q/k/v weight's layers).
    public func rows(_ range: Range<Int>) -> QuantizedMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) of a quantized [\(rows), \(columns)]")
        return QuantizedMatrix(format: format, rows: range.count, columns: columns, rowBytes: rowBytes, blocks: blocks,
                               firstRow: firstRow + range.lowerBound, nestedAbsmax: nestedAbsmax)
    }

    /// Calls `body` with the address of row 0's blocks as stored and the bytes from one row to
    /// the next (compact blocks when `nestedAbsmax` is set; `withExpandedRows` expands them).
    func withBlocks<Result>(_ body: (UnsafePointer<UInt8>, Int) -> Result) -> Result {
        blocks.withUnsafeBufferPointer { body($0.baseAddress! + firstRow * rowBytes, rowBytes) }
    }

    /// Calls `body(rows, blocks, rowBytes)` for consecutive parts of `rows` with their blocks in
    /// the format's own layout: all at once where they are stored, or, with nested statistics,
    /// expanded a few rows at a time into a buffer that stays in cache.
    func withExpandedRows(_ rows: Range<Int>, _ body: (Range<Int>, UnsafePointer<UInt8>, Int) -> Void) {
        guard let nestedAbsmax else {
            withBlocks { start, rowBytes in body(rows, start + rows.lowerBound * rowBytes, rowBytes) }
            return
        }
        let blocksPerRow = columns / 64, expandedRowBytes = blocksPerRow * NestedAbsmaxRows.expandedBytesPerBlock
        let chunk = max(1, 16_384 / expandedRowBytes)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: min(chunk, rows.count) * expandedRowBytes, alignment: 64)
        defer { buffer.deallocate() }
        blocks.withUnsafeBytes { bytes in
            for start in stride(from: rows.lowerBound, to: rows.upperBound, by: chunk) {
                let part = start..<min(start + chunk, rows.upperBound)
                for row in part {
                    nestedAbsmax.expand(row: firstRow + row, blocksPerRow: blocksPerRow, blocks: 0..<blocksPerRow,
                                        from: bytes.baseAddress! + (firstRow + row) * rowBytes,
                                        into: buffer + (row - start) * expandedRowBytes)
                }
                body(part, buffer.assumingMemoryBound(to: UInt8.self), expandedRowBytes)
            }
        }
    }

    /// This matrix's rows in the numbering of the rows it stores (a view's are offset).
    var storedRows: Range<Int> { firstRow..<(firstRow + rows) }

    /// The bytes this matrix's blocks take, with the nested statistics they share.
    public var byteCount: Int { rows * rowBytes + (nestedAbsmax?.byteCount ?? 0) }

    /// `[rows, columns]`.
    public var shape: [Int] { [rows, columns] }

    /// The whole matrix in float32.
    public func dequantized() -> Tensor {
        Tensor(shape: shape) { output in
            decode(rows: 0..<rows, columns: 0..<columns, into: output.baseAddress!, rowStride: columns)
        }
    }

    /// Decodes rows `rows`, columns `columns` into `output` (row `r` at `output + (r −
    /// rows.lowerBound) · rowStride`). Columns that do not start or end on a block boundary
    /// decode their whole blocks into a scratch row first. `vectorized` decodes NF4 and FP4 with
    /// the AVX2 kernel (`fledge_4bit_decode`, the same floats as the portable Swift decoder).
    func decode(rows: Range<Int>, columns range: Range<Int>, into output: UnsafeMutablePointer<Float>, rowStride: Int,
                vectorized: Bool = false) {
        let block = format.blockFormat
        let perBlock = block.valuesPerBlock
        let firstBlock = range.lowerBound / perBlock, endBlock = (range.upperBound + perBlock - 1) / perBlock
        let aligned = firstBlock * perBlock == range.lowerBound && endBlock * perBlock == range.upperBound
        let dequantize = vectorized ? Self.vectorizedDequantizer(format) ?? block.dequantize : block.dequantize
        var scratch = aligned ? [] : [Float](repeating: 0, count: (endBlock - firstBlock) * perBlock)
        let expandedBytes = (endBlock - firstBlock) * block.bytesPerBlock
        let expanded = nestedAbsmax.map { _ in UnsafeMutableRawPointer.allocate(byteCount: expandedBytes, alignment: 64) }
        defer { expanded?.deallocate() }
        blocks.withUnsafeBytes { bytes in
            for row in rows {
                let stored = firstRow + row
                let source: UnsafeRawBufferPointer
                if let nestedAbsmax, let expanded {
                    nestedAbsmax.expand(row: stored, blocksPerRow: columns / perBlock, blocks: firstBlock..<endBlock,
                                        from: bytes.baseAddress! + stored * rowBytes + firstBlock * NestedAbsmaxRows.bytesPerBlock,
                                        into: expanded)
                    source = UnsafeRawBufferPointer(start: expanded, count: expandedBytes)
                } else {
                    let start = stored * rowBytes + firstBlock * block.bytesPerBlock
                    source = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + expandedBytes)])
                }
                let target = output + (row - rows.lowerBound) * rowStride
                if aligned {
                    dequantize(source, UnsafeMutableBufferPointer(start: target, count: range.count))
                } else {
                    scratch.withUnsafeMutableBufferPointer { decoded in
                        dequantize(source, decoded)
                        target.update(from: decoded.baseAddress! + (range.lowerBound - firstBlock * perBlock), count: range.count)
                    }
                }
            }
        }
    }

    /// The AVX2 decoder of `format`'s whole blocks, or nil where it has none (the portable one
    /// decodes them).
    private static func vectorizedDequantizer(
        _ format: QuantizationFormat
    ) -> ((UnsafeRawBufferPointer, UnsafeMutableBufferPointer<Float>) -> Void)? {
        guard let fourBit = format.blockFormat as? any BitsAndBytes4BitFormat.Type else { return nil }
        let codebook = fourBit.codebook
        return { blocks, output in
            guard let base = blocks.baseAddress, let destination = output.baseAddress else { return }
            codebook.withUnsafeBufferPointer { table in
                fledge_4bit_decode(blocks.count / 36, base.assumingMemoryBound(to: UInt8.self), destination, table.baseAddress!)
            }
        }
    }
}
