/// A frozen `[rows, columns]` weight (a linear layer's `[out, in]`) stored block-quantized, row
/// by row: each row is a whole number of the format's blocks.
///
/// Products with it (`Tensor.matmul(transposedQuantized:)` and its backward) never materialise
/// the float matrix: the GEMM dequantizes each weight panel as it packs it, and few-row products
/// (decoding) dequantize one row at a time into a cache-resident buffer.
public final class QuantizedMatrix: @unchecked Sendable {
    public let format: QuantizationFormat
    public let rows: Int
    public let columns: Int
    /// The blocks, row after row (immutable after initialisation; shared by row views).
    private let blocks: [UInt8]
    private let rowBytes: Int
    /// The first row of `blocks` that is this matrix's row 0 (nonzero in a view of rows).
    private let firstRow: Int

    /// Quantizes a float `[rows, columns]` weight; `name` labels errors. Throws when a row is
    /// not a whole number of blocks or a value is not finite.
    ///
    /// `nestedAbsmaxRows` (NF4 and FP4 only) compresses the absmax of each group of rows as
    /// bitsandbytes' `compress_statistics` compresses one weight tensor's (`NestedAbsmax`), so
    /// that the weights dequantize to exactly bitsandbytes' nested values; give one range per
    /// checkpoint weight (a fused matrix has several). In memory each block keeps its decoded
    /// absmax as float32, so this changes the values, not the size.
    public convenience init(
        quantizing weight: Tensor, format: QuantizationFormat, name: String, nestedAbsmaxRows: [Range<Int>] = []
    ) throws(QuantizationError) {
        precondition(weight.rank == 2, "\(name): a quantized weight is a matrix, got \(weight.shape)")
        let (rows, columns) = (weight.shape[0], weight.shape[1])
        let block = format.blockFormat
        guard let rowBytes = block.byteCount(values: columns) else {
            throw .notWholeBlocks(weight: name, format: format.rawValue, values: columns, valuesPerBlock: block.valuesPerBlock)
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
        if !nestedAbsmaxRows.isEmpty {
            guard block is any BitsAndBytes4BitFormat.Type else { throw .nestedAbsmaxNeedsFourBit(format: format.rawValue) }
            Self.compressAbsmax(&blocks, rowBytes: rowBytes, groups: nestedAbsmaxRows, bytesPerBlock: block.bytesPerBlock)
        }
        self.init(format: format, rows: rows, columns: columns, rowBytes: rowBytes, blocks: blocks, firstRow: 0)
    }

    /// Replaces the float32 absmax at the start of each 4-bit block by its nested-quantized
    /// value, one `NestedAbsmax` per group of rows.
    private static func compressAbsmax(_ blocks: inout [UInt8], rowBytes: Int, groups: [Range<Int>], bytesPerBlock: Int) {
        for group in groups {
            let offsets = Array(stride(from: group.lowerBound * rowBytes, to: group.upperBound * rowBytes, by: bytesPerBlock))
            let absmax = blocks.withUnsafeBytes { bytes in offsets.map { Float(bitPattern: BlockBytes(base: bytes.baseAddress! + $0).uint32(at: 0)) } }
            let decoded = NestedAbsmax(compressing: absmax).absmax
            blocks.withUnsafeMutableBytes { bytes in
                for (offset, value) in zip(offsets, decoded) {
                    bytes.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: offset, as: UInt32.self)
                }
            }
        }
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
        self.init(format: format, rows: rows, columns: columns, rowBytes: rowBytes, blocks: blocks, firstRow: 0)
    }

    private init(format: QuantizationFormat, rows: Int, columns: Int, rowBytes: Int, blocks: [UInt8], firstRow: Int) {
        self.format = format
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.blocks = blocks
        self.firstRow = firstRow
    }

    /// Rows `range` of this matrix, sharing its blocks (a fused q/k/v weight's layers).
    public func rows(_ range: Range<Int>) -> QuantizedMatrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) of a quantized [\(rows), \(columns)]")
        return QuantizedMatrix(format: format, rows: range.count, columns: columns, rowBytes: rowBytes, blocks: blocks,
                               firstRow: firstRow + range.lowerBound)
    }

    /// Calls `body` with the address of row 0's blocks and the bytes from one row to the next.
    func withBlocks<Result>(_ body: (UnsafePointer<UInt8>, Int) -> Result) -> Result {
        blocks.withUnsafeBufferPointer { body($0.baseAddress! + firstRow * rowBytes, rowBytes) }
    }

    /// The bytes this matrix's blocks take.
    public var byteCount: Int { rows * rowBytes }

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
    /// decode their whole blocks into a scratch row first.
    func decode(rows: Range<Int>, columns range: Range<Int>, into output: UnsafeMutablePointer<Float>, rowStride: Int) {
        let block = format.blockFormat
        let perBlock = block.valuesPerBlock
        let firstBlock = range.lowerBound / perBlock, endBlock = (range.upperBound + perBlock - 1) / perBlock
        let aligned = firstBlock * perBlock == range.lowerBound && endBlock * perBlock == range.upperBound
        var scratch = aligned ? [] : [Float](repeating: 0, count: (endBlock - firstBlock) * perBlock)
        blocks.withUnsafeBytes { bytes in
            for row in rows {
                let start = (firstRow + row) * rowBytes + firstBlock * block.bytesPerBlock
                let source = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + (endBlock - firstBlock) * block.bytesPerBlock)])
                let target = output + (row - rows.lowerBound) * rowStride
                if aligned {
                    block.dequantize(source, into: UnsafeMutableBufferPointer(start: target, count: range.count))
                } else {
                    scratch.withUnsafeMutableBufferPointer { decoded in
                        block.dequantize(source, into: decoded)
                        target.update(from: decoded.baseAddress! + (range.lowerBound - firstBlock * perBlock), count: range.count)
                    }
                }
            }
        }
    }
}
