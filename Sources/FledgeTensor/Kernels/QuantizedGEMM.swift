import CFledgeKernels

/// Products with a block-quantized weight `W [rows, columns]` (`QuantizedMatrix`): the forward
/// `C = A · Wᵀ` of a linear layer and its input gradient `C = A · W`.
///
/// With the AVX2 kernels, the blocked GEMM (`GEMM.multiplyBlocked`) takes W's panels from
/// `QuantizedMatrix.decode` — each packed panel is float32, so the micro-kernel is the float
/// one and the extra cost is one pass over the compressed bytes per panel. A forward with few
/// rows of A (decoding) reads each compressed block once and expands it in registers (the AVX2
/// kernels of `fusedDecodingKernel`), or, for formats without one, decodes one row of W at a
/// time into a buffer that stays in cache and takes its dot products with A's rows. Without AVX2, W is decoded in row blocks and multiplied
/// by `GEMM.multiply` (the portable GEMM). Inside `Tensor.withQuantizedActivations` (generation),
/// few-row forwards with a Q8_0 or Q4_0 weight are llama.cpp's integer products instead
/// (`Int8DecodingProduct`), on every CPU. Few-row products with a bfloat16 weight decode it in parts
/// for the float GEMM's own few-row kernels (`multiplyDecodedParts`), so that they equal the
/// products of the float weight it was rounded from under `bf16: true` bit for bit.
enum QuantizedGEMM {
    /// Rows of W decoded at once on CPUs without AVX2.
    private static let portableRowBlock = 256

    /// `C[m, W.rows] = A[m, W.columns] · Wᵀ`; `vectorized: false` takes the path of CPUs
    /// without AVX2 (for the tests).
    static func multiplyTransposed(
        m: Int, _ a: MatrixOperand, _ w: QuantizedMatrix, into c: UnsafeMutablePointer<Float>, ldc: Int,
        vectorized: Bool = CPU.hasAVX2
    ) {
        let (n, k) = (w.rows, w.columns)
        guard m > 0, n > 0 else { return }
        if m <= GEMM.smallRows, k > 0, a.columnStride == 1, DecodingPrecision.quantizesActivations,
           Int8DecodingProduct.supports(w.format) {
            Int8DecodingProduct.multiplyTransposed(m: m, a, w, into: c, ldc: ldc, kernels: vectorized ? CPU.kernelSet : .portable)
            return
        }
        guard vectorized else {
            decodingRowBlocks(w) { rows, block in
                let b = MatrixOperand(base: block, rowStride: 1, columnStride: k)
                GEMM.multiply(m: m, n: rows.count, k: k, a, b, into: c + rows.lowerBound, ldc: ldc, accumulate: false)
            }
            return
        }
        if m <= GEMM.smallRows, w.format == .bf16 {
            // Each part: W's rows for those columns of C, decoded row-major and read as Wᵀ (the
            // float weight's few-row path, up to as many rows as it takes).
            multiplyDecodedParts(m: m, n: n, k: k, a, into: c, ldc: ldc) { columns, buffer in
                w.decode(rows: columns, columns: 0..<k, into: buffer, rowStride: k)
                return MatrixOperand(base: buffer, rowStride: 1, columnStride: k)
            }
            return
        }
        if m <= GEMM.smallRows, a.columnStride == 1, let kernel = fusedDecodingKernel(w.format) {
            Parallel.forRanges(n, minChunk: 16) { range in
                w.withExpandedRows(range) { part, rows, rowBytes in
                    kernel(m, k, a.base, a.rowStride, rows, rowBytes, part.count, c + part.lowerBound, ldc)
                }
            }
            return
        }
        if m <= GEMM.smallRows, a.columnStride == 1 {
            Parallel.forRanges(n, minChunk: 16) { range in
                let row = TensorStorage(count: k)
                for column in range {
                    w.decode(rows: column..<(column + 1), columns: 0..<k, into: row.pointer, rowStride: k, vectorized: true)
                    for i in 0..<m { c[i * ldc + column] = dotProduct(a.base + i * a.rowStride, row.pointer, k) }
                }
            }
            return
        }
        // B = Wᵀ: B's columns are W's rows, its depth W's columns.
        // Each panel's 16 rows of W are decoded into a buffer that stays in L1 and packed from there.
        let nr = Int(FLEDGE_GEMM_NR)
        GEMM.multiplyBlocked(m: m, n: n, k: k, .raw(a), .panels { p0, depth, first, columns, destination in
            let block = TensorStorage(count: nr * depth)
            for panel in stride(from: 0, to: columns, by: nr) {
                let width = min(nr, columns - panel)
                w.decode(rows: (first + panel)..<(first + panel + width), columns: p0..<(p0 + depth), into: block.pointer,
                         rowStride: depth, vectorized: true)
                fledge_pack_b(depth, width, block.pointer, 1, depth, destination + panel * depth)
            }
        }, into: c, ldc: ldc, accumulate: false, parallel: true)
    }

    /// `C[m, W.columns] = A[m, W.rows] · W`; `vectorized` as in `multiplyTransposed`.
    static func multiply(
        m: Int, _ a: MatrixOperand, _ w: QuantizedMatrix, into c: UnsafeMutablePointer<Float>, ldc: Int,
        vectorized: Bool = CPU.hasAVX2
    ) {
        let (n, k) = (w.columns, w.rows)
        guard m > 0, n > 0 else { return }
        guard vectorized else {
            var first = true
            decodingRowBlocks(w) { rows, block in
                let shifted = MatrixOperand(base: a.base + rows.lowerBound * a.columnStride, rowStride: a.rowStride, columnStride: a.columnStride)
                let b = MatrixOperand(base: block, rowStride: n, columnStride: 1)
                GEMM.multiply(m: m, n: n, k: rows.count, shifted, b, into: c, ldc: ldc, accumulate: !first)
                first = false
            }
            return
        }
        if m <= GEMM.smallRows, w.format == .bf16 {
            // Each part: those columns of W, decoded row-major.
            multiplyDecodedParts(m: m, n: n, k: k, a, into: c, ldc: ldc) { columns, buffer in
                w.decode(rows: 0..<k, columns: columns, into: buffer, rowStride: columns.count)
                return MatrixOperand(base: buffer, rowStride: columns.count, columnStride: 1)
            }
            return
        }
        // B = W: B's depth is W's rows.
        // W's rows are decoded 16 at a time into a buffer that stays in cache, and each panel's
        // 16 columns of them packed from there.
        let nr = Int(FLEDGE_GEMM_NR)
        GEMM.multiplyBlocked(m: m, n: n, k: k, .raw(a), .panels { p0, depth, first, columns, destination in
            let block = TensorStorage(count: nr * columns)
            for d in stride(from: 0, to: depth, by: nr) {
                let height = min(nr, depth - d)
                w.decode(rows: (p0 + d)..<(p0 + d + height), columns: first..<(first + columns), into: block.pointer,
                         rowStride: columns, vectorized: true)
                for panel in stride(from: 0, to: columns, by: nr) {
                    fledge_pack_b(height, min(nr, columns - panel), block.pointer + panel, columns, 1, destination + panel * depth + d * nr)
                }
            }
        }, into: c, ldc: ldc, accumulate: false, parallel: true)
    }

    /// Few rows of A times a bfloat16 W (`BFloat16Blocks`): W decoded in parts of 32 columns of
    /// the product (`decodePart` writes one part as a float operand and returns it), each part
    /// multiplied by `GEMM.multiply` as a float weight of these values is — the same kernels, the same
    /// sums in the same order (every output is one dot product, whatever part it falls in). So a
    /// frozen weight stored in bfloat16 gives exactly the products that `bf16: true` takes of the
    /// float32 weight it was rounded from.
    private static func multiplyDecodedParts(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, into c: UnsafeMutablePointer<Float>, ldc: Int,
        decodePart: (Range<Int>, UnsafeMutablePointer<Float>) -> MatrixOperand
    ) {
        Parallel.forRanges((n + 31) / 32, minChunk: max(1, 2048 / max(k, 1))) { parts in
            let columns = (parts.lowerBound * 32)..<min(parts.upperBound * 32, n)
            let buffer = TensorStorage(count: columns.count * k)
            GEMM.multiply(m: m, n: columns.count, k: k, a, decodePart(columns, buffer.pointer), into: c + columns.lowerBound,
                          ldc: ldc, accumulate: false, parallel: false)
        }
    }

    /// The AVX2 kernel that dequantizes `format`'s blocks in registers as it takes the dot
    /// products of decoding (`fledge_q8_0_matvec`, `fledge_q4_0_matvec`, `fledge_4bit_matvec`
    /// for NF4 and FP4), or nil where the format has none (its
    /// rows are decoded into a buffer first: the portable path, which the tests compare with).
    private static func fusedDecodingKernel(
        _ format: QuantizationFormat
    ) -> ((Int, Int, UnsafePointer<Float>, Int, UnsafePointer<UInt8>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void)? {
        func fourBit(_ codebook: [Float]) -> (Int, Int, UnsafePointer<Float>, Int, UnsafePointer<UInt8>, Int, Int, UnsafeMutablePointer<Float>, Int) -> Void {
            { m, k, x, ldx, w, rowBytes, rows, out, ldo in
                codebook.withUnsafeBufferPointer { fledge_4bit_matvec(m, k, x, ldx, w, rowBytes, rows, out, ldo, $0.baseAddress) }
            }
        }
        switch format {
        case .q8_0: return { fledge_q8_0_matvec($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        case .q4_0: return { fledge_q4_0_matvec($0, $1, $2, $3, $4, $5, $6, $7, $8) }
        case .nf4: return fourBit(NF4.codebook)
        case .fp4: return fourBit(FP4.codebook)
        case .int8, .q4_k, .bf16: return nil
        }
    }

    /// Calls `body` with each block of W's rows decoded row-major (`[rows.count, W.columns]`).
    private static func decodingRowBlocks(_ w: QuantizedMatrix, _ body: (Range<Int>, UnsafePointer<Float>) -> Void) {
        let block = TensorStorage(count: min(w.rows, portableRowBlock) * w.columns)
        for start in stride(from: 0, to: w.rows, by: portableRowBlock) {
            let rows = start..<min(start + portableRowBlock, w.rows)
            w.decode(rows: rows, columns: 0..<w.columns, into: block.pointer, rowStride: w.columns)
            body(rows, block.pointer)
        }
    }
}
