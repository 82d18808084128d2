import CFledgeKernels

/// Activation rows quantized for the integer decoding products (`Int8DecodingProduct`): each
/// row's 32-value blocks encoded as llama.cpp's Q8_0 (exactly `Q8_0.quantize`'s bytes), held
/// unpacked — the signed levels row after row, and per block its scale (the float16 one of the
/// Q8_0 block, widened) and the sum of its levels (Q4_0's products subtract 8 times it).
struct QuantizedActivations {
    let rows: Int
    let columns: Int
    private(set) var levels: [Int8]
    private(set) var scales: [Float]
    private(set) var sums: [Int32]

    /// Quantizes the `rows × columns` block of `a` (unit column stride, `columns` a multiple of 32)
    /// with the AVX2 quantizer (`vectorized`) or through `Q8_0.quantize` (the portable twin).
    init(rows: Int, columns: Int, _ a: MatrixOperand, vectorized: Bool) {
        precondition(a.columnStride == 1 && columns % 32 == 0, "activations of \(columns) columns are not whole Q8_0 blocks")
        self.rows = rows
        self.columns = columns
        let blocks = columns / 32
        levels = [Int8](repeating: 0, count: rows * columns)
        scales = [Float](repeating: 0, count: rows * blocks)
        sums = [Int32](repeating: 0, count: rows * blocks)
        if vectorized {
            fledge_quantize_q8_avx2(rows, columns, a.base, a.rowStride, &levels, &scales, &sums)
            return
        }
        var encoded = [UInt8](repeating: 0, count: blocks * Q8_0.bytesPerBlock)
        for i in 0..<rows {
            encoded.withUnsafeMutableBytes { Q8_0.quantize(UnsafeBufferPointer(start: a.base + i * a.rowStride, count: columns), into: $0) }
            encoded.withUnsafeBytes { bytes in
                for b in 0..<blocks {
                    let block = BlockBytes(base: bytes.baseAddress! + b * Q8_0.bytesPerBlock)
                    var sum: Int32 = 0
                    for j in 0..<32 {
                        let level = Int8(bitPattern: block[2 + j])
                        levels[i * columns + b * 32 + j] = level
                        sum += Int32(level)
                    }
                    scales[i * blocks + b] = block.float16(at: 0)
                    sums[i * blocks + b] = sum
                }
            }
        }
    }

    /// Calls `body` with the levels, scales and sums.
    func withUnsafePointers<Result>(
        _ body: (UnsafePointer<Int8>, UnsafePointer<Float>, UnsafePointer<Int32>) -> Result
    ) -> Result {
        levels.withUnsafeBufferPointer { l in
            scales.withUnsafeBufferPointer { s in sums.withUnsafeBufferPointer { body(l.baseAddress!, s.baseAddress!, $0.baseAddress!) } }
        }
    }
}
