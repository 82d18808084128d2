import CFledgeKernels

/// A right-hand GEMM operand `B [depth, columns]` packed once and multiplied by many left-hand
/// blocks — attention packs each head's keys once for all of its query blocks.
///
/// Packs only where it pays: with the AVX2 kernels, a depth within one block
/// (`GEMM.depthBlock`) and enough rows to come (`rowsToCome`); otherwise products go through
/// `GEMM.multiply` on the source operand.
struct PackedOperand {
    let depth: Int
    let columns: Int
    let source: MatrixOperand
    private let packed: TensorStorage?

    init(_ source: MatrixOperand, depth: Int, columns: Int, rowsToCome: Int) {
        self.depth = depth
        self.columns = columns
        self.source = source
        let nr = Int(FLEDGE_GEMM_NR)
        if CPU.hasAVX2, depth <= GEMM.depthBlock, depth > 0, rowsToCome >= 2 * nr {
            let storage = TensorStorage(count: depth * ((columns + nr - 1) / nr * nr))
            fledge_pack_b(depth, columns, source.base, source.rowStride, source.columnStride, storage.pointer)
            packed = storage
        } else {
            packed = nil
        }
    }

    /// The first column a product may start at: products start on a panel boundary.
    func alignedStart(_ column: Int) -> Int {
        packed == nil ? column : column / Int(FLEDGE_GEMM_NR) * Int(FLEDGE_GEMM_NR)
    }

    /// C[m, columns] = A[m, depth] · B[:, columns] on the calling thread; `columns` must start
    /// at an `alignedStart`.
    func multiply(m: Int, _ a: MatrixOperand, columns range: Range<Int>, into c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard let packed else {
            let shifted = MatrixOperand(base: source.base + range.lowerBound * source.columnStride,
                                        rowStride: source.rowStride, columnStride: source.columnStride)
            GEMM.multiply(m: m, n: range.count, k: depth, a, shifted, into: c, ldc: ldc, accumulate: false, parallel: false)
            return
        }
        precondition(range.lowerBound == alignedStart(range.lowerBound), "packed product must start on a panel boundary")
        let mr = Int(FLEDGE_GEMM_MR)
        let packedA = TensorStorage(count: (min(m, GEMM.rowBlock) + mr) * depth)
        var i0 = 0
        while i0 < m {
            let height = min(GEMM.rowBlock, m - i0)
            fledge_pack_a(height, depth, a.base + i0 * a.rowStride, a.rowStride, a.columnStride, packedA.pointer)
            GEMM.microKernel(rows: height, columns: range.count, depth: depth, .packedA(UnsafePointer(packedA.pointer), depth: depth),
                             .packedB(UnsafePointer(packed.pointer + range.lowerBound * depth), depth: depth),
                             into: c + i0 * ldc, ldc: ldc, accumulate: 0)
            i0 += height
        }
    }
}

/// A left-hand GEMM operand `A [rows, depth]` packed once, for every depth block, and
/// multiplied by many right-hand blocks (the selective log-softmax multiplies one block of
/// hidden states by every block of the vocabulary). Packs only with the AVX2 kernels and more
/// rows than the few-row path takes.
struct PackedRows {
    let rows: Int
    let depth: Int
    let source: MatrixOperand
    private let packed: TensorStorage?
    private let paddedRows: Int

    init(_ source: MatrixOperand, rows: Int, depth: Int) {
        self.rows = rows
        self.depth = depth
        self.source = source
        let mr = Int(FLEDGE_GEMM_MR)
        paddedRows = (rows + mr - 1) / mr * mr
        guard CPU.hasAVX2, rows > GEMM.smallRows, depth > 0 else {
            packed = nil
            return
        }
        let storage = TensorStorage(count: paddedRows * depth)
        var p0 = 0
        while p0 < depth {
            let block = min(GEMM.depthBlock, depth - p0)
            fledge_pack_a(rows, block, source.base + p0 * source.columnStride, source.rowStride, source.columnStride,
                          storage.pointer + p0 * paddedRows)
            p0 += block
        }
        packed = storage
    }

    var isPacked: Bool { packed != nil }

    /// The panels of rows `row...` for the depth block starting at `depthStart` (`depth` deep).
    func panels(row: Int, depthStart: Int, depth blockDepth: Int) -> UnsafePointer<Float> {
        UnsafePointer(packed!.pointer + depthStart * paddedRows + row * blockDepth)
    }
}
