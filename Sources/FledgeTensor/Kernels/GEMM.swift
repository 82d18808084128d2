import CFledgeKernels

/// A strided matrix operand: element (row, column) lives at `base[row * rowStride + column * columnStride]`.
struct MatrixOperand {
    let base: UnsafePointer<Float>
    let rowStride: Int
    let columnStride: Int
}

/// Single-precision matrix multiplication `C = A·B` (or `C += A·B`) for every layout used in
/// training: transposed operands are just strided operands (`A·Bᵀ` passes B with its strides
/// swapped).
///
/// With the AVX2 kernel set and above this is a BLIS-style GEMM: B is packed in `depthBlock ×
/// columnBlock` blocks of 16-column panels, A in `rowBlock × depthBlock` blocks of 6-row panels,
/// and a register-blocked micro-kernel in C (`CFledgeKernels`, compiled per function for its
/// instructions) does the arithmetic: 6×16 with AVX2, 12×32 with AVX-512; row blocks are shared
/// out across cores. Few-row products (decoding, at most `smallRows`) skip the packing of their
/// large operand: times a row-major Bᵀ (`x · Wᵀ`) they stream W once through `fledge_gemm_small_nt`,
/// whose outputs do not depend on how many of those rows share the product. From `smallRows + 1`
/// rows on, every output is summed in the blocked kernel's order whatever the row count, so a
/// training pass gives each row the same values with more or fewer rows beside it (which skipping
/// zero-advantage rows relies on: `ZeroSignalRowsTests`). The portable set uses `PortableGEMM`. `kernels` picks the set (the tests run each one the CPU has);
/// every set gives the same value up to the order of the float additions.
enum GEMM {
    static let rowBlock = 72
    static let depthBlock = 256
    static let columnBlock = 1024
    static let smallRows = 8
    /// The most rows of A for which B is read in place rather than packed.
    static let inPlaceRows = 24

    /// The most scratch memory one product takes (packed blocks of B and, per core, of A),
    /// whatever the operand sizes.
    static var maxWorkspaceBytes: Int {
        let nr = Int(FLEDGE_GEMM_NR), mr = Int(FLEDGE_GEMM_MR)
        let floats = depthBlock * (columnBlock + nr) + Parallel.workers * (rowBlock + mr) * depthBlock
        return floats * MemoryLayout<Float>.stride
    }

    /// `parallel: false` keeps the product on the calling thread (for callers that already
    /// share their work out across cores).
    static func multiply(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = true,
        kernels: KernelSet = CPU.kernelSet
    ) {
        guard kernels >= .avx2 else {
            PortableGEMM.multiply(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: accumulate, parallel: parallel)
            return
        }
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if !accumulate { for row in 0..<m { (c + row * ldc).initialize(repeating: 0, count: n) } }
            return
        }
        let transposedB = b.rowStride == 1 && b.columnStride != 1
        if m <= smallRows && (b.rowStride == 1 || b.columnStride == 1) {
            if a.columnStride == 1 {
                multiplySmall(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: accumulate, parallel: parallel,
                              kernels: kernels)
            } else {
                // A few strided rows (Aᵀ of a weight gradient): copy them row-major first.
                let rows = TensorStorage(count: m * k)
                fledge_pack_rows(m, k, a.base, a.rowStride, a.columnStride, rows.pointer)
                let packed = MatrixOperand(base: rows.pointer, rowStride: k, columnStride: 1)
                multiplySmall(m: m, n: n, k: k, packed, b, into: c, ldc: ldc, accumulate: accumulate, parallel: parallel,
                              kernels: kernels)
            }
        } else if m <= 2 * Int(FLEDGE_GEMM_NR), transposedB {
            multiplyByWeightRows(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: accumulate, parallel: parallel,
                                 kernels: kernels)
        } else {
            multiplyBlocked(m: m, n: n, k: k, .raw(a), .raw(b), into: c, ldc: ldc, accumulate: accumulate, parallel: parallel,
                            kernels: kernels)
        }
    }

    /// A few rows (at most two panels' worth) times Bᵀ of a row-major B (`x · Wᵀ` for a weight
    /// `W [n, k]`, as a batch of decoding steps multiplies every projection): packing B would
    /// gather all of W into panels on every call, costing as much as the product. Computes
    /// Cᵀ = W · Aᵀ instead, whose left operand W the micro-kernel reads in place (a narrow product)
    /// and whose right operand, the few rows of A, is the one packed; then adds Cᵀ into C. (The
    /// AVX-512 set; the AVX2 set's 6 × 16 micro-kernel ran this slower than `fledge_gemm_small_nt`.)
    private static func multiplyByWeightRows(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool, kernels: KernelSet
    ) {
        let weight = MatrixOperand(base: b.base, rowStride: b.columnStride, columnStride: 1)
        let rowsT = MatrixOperand(base: a.base, rowStride: a.columnStride, columnStride: a.rowStride)
        let transposed = TensorStorage(count: n * m)
        multiplyBlocked(m: n, n: m, k: k, .raw(weight), .raw(rowsT), into: transposed.pointer, ldc: m, accumulate: false,
                        parallel: parallel, kernels: kernels)
        let source = transposed.pointer
        Parallel.forRanges(m, minChunk: 1, parallel: parallel) { range in
            for i in range {
                let row = c + i * ldc
                if accumulate {
                    for j in 0..<n { row[j] += source[j * m + i] }
                } else {
                    for j in 0..<n { row[j] = source[j * m + i] }
                }
            }
        }
    }

    /// Few rows of A: stream B once, no packing; columns are shared out across cores in parts of
    /// whole 32-column blocks, each part at least 64 Ki multiply-adds per row of A (256 KB of a float
    /// weight): regions run on the persistent `WorkerPool`, which starts no thread per region, so even
    /// the 576 × 576 projections of a small model's decoding step are split. Every output is one dot
    /// product whatever part it falls in, so the parts do not change results.
    private static func multiplySmall(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool, kernels: KernelSet
    ) {
        let transposedB = b.rowStride == 1 && b.columnStride != 1
        let flag: Int32 = accumulate ? 1 : 0
        Parallel.forRanges(n / 32, minChunk: max(1, 2048 / max(k, 1)), parallel: parallel) { blocks in
            let first = blocks.lowerBound * 32
            let last = blocks.upperBound == n / 32 ? n : blocks.upperBound * 32
            if transposedB && m == 1 && kernels >= .avx512 {
                fledge_gemv_nt_avx512(last - first, k, a.base, b.base + first * b.columnStride, b.columnStride, c + first, flag)
            } else if transposedB {
                fledge_gemm_small_nt(m, last - first, k, a.base, a.rowStride, b.base + first * b.columnStride, b.columnStride,
                                     c + first, ldc, flag)
            } else {
                fledge_gemm_small_nn(m, last - first, k, a.base, a.rowStride, b.base + first, b.rowStride, c + first, ldc, flag)
            }
        }
        if n < 32 {
            if transposedB {
                fledge_gemm_small_nt(m, n, k, a.base, a.rowStride, b.base, b.columnStride, c, ldc, flag)
            } else {
                fledge_gemm_small_nn(m, n, k, a.base, a.rowStride, b.base, b.rowStride, c, ldc, flag)
            }
        }
    }

    /// C = A·B (or C += A·B) with A packed beforehand, for an A multiplied by many B blocks.
    static func multiply(
        _ a: PackedRows, _ b: MatrixOperand, n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool
    ) {
        guard a.isPacked, n > 0 else {
            multiply(m: a.rows, n: n, k: a.depth, a.source, b, into: c, ldc: ldc, accumulate: accumulate)
            return
        }
        multiplyBlocked(m: a.rows, n: n, k: a.depth, .packed(a), .raw(b), into: c, ldc: ldc, accumulate: accumulate, parallel: true)
    }

    /// The left operand of a blocked product: packed on the fly, or beforehand.
    enum Left {
        case raw(MatrixOperand)
        case packed(PackedRows)
    }

    /// The right operand of a blocked product: a float matrix, or something that writes B's
    /// panels itself — `pack(p0, depth, firstColumn, columns, destination)` stores the block of
    /// B at depths `p0 ..< p0 + depth` and the given columns as `fledge_pack_b` lays it out (a
    /// quantized weight dequantizing as it packs).
    enum Right {
        case raw(MatrixOperand)
        case panels(pack: (_ p0: Int, _ depth: Int, _ firstColumn: Int, _ columns: Int, _ destination: UnsafeMutablePointer<Float>) -> Void)
    }

    static func multiplyBlocked(
        m: Int, n: Int, k: Int, _ left: Left, _ right: Right,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool, kernels: KernelSet = CPU.kernelSet
    ) {
        let nr = Int(FLEDGE_GEMM_NR), mr = Int(FLEDGE_GEMM_MR)
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        // Few row blocks: also split the columns so that every core has work.
        let columnParts = rowBlocks >= 2 * Parallel.workers || !parallel ? 1 : Parallel.workers
        // Packing pays for itself only when the packed elements are used many times. A narrow
        // product (at most two panels of B, as the rank-wide products of LoRA) reads A where it
        // lies, and a short one (few rows of A) reads B where it lies when B's columns are
        // contiguous and fill whole panels.
        let inPlaceA: MatrixOperand? = if case .raw(let a) = left, n <= 2 * nr { a } else { nil }
        let inPlaceB: MatrixOperand? = if case .raw(let b) = right, b.columnStride == 1, n % nr == 0, m <= inPlaceRows { b } else { nil }
        let packedB = inPlaceB != nil ? nil : TensorStorage(count: min(k, depthBlock) * (min(n, columnBlock) + nr))
        var j0 = 0
        while j0 < n {
            let width = min(columnBlock, n - j0)
            let panels = (width + nr - 1) / nr
            var p0 = 0
            while p0 < k {
                let depth = min(depthBlock, k - p0)
                let first = accumulate || p0 > 0 ? Int32(1) : Int32(0)
                if let packedB {
                    Parallel.forRanges(panels, minChunk: 8, parallel: parallel) { range in
                        let columns = min(range.upperBound * nr, width) - range.lowerBound * nr
                        let destination = packedB.pointer + range.lowerBound * nr * depth
                        switch right {
                        case .raw(let b):
                            fledge_pack_b(depth, columns, b.base + p0 * b.rowStride + (j0 + range.lowerBound * nr) * b.columnStride,
                                          b.rowStride, b.columnStride, destination)
                        case .panels(let pack):
                            pack(p0, depth, j0 + range.lowerBound * nr, columns, destination)
                        }
                    }
                }
                Parallel.forRanges(rowBlocks * columnParts, parallel: parallel) { tasks in
                    var scratch: TensorStorage? = nil
                    for task in tasks {
                        let block = task / columnParts, part = task % columnParts
                        let i0 = block * rowBlock, height = min(rowBlock, m - i0)
                        let panelRange = (panels * part / columnParts)..<(panels * (part + 1) / columnParts)
                        guard !panelRange.isEmpty else { continue }
                        let tiles: KernelOperand
                        switch left {
                        case .raw(let a) where inPlaceA != nil:
                            tiles = .inPlace(a, row: i0, depth: p0)
                        case .raw(let a):
                            let buffer = scratch ?? TensorStorage(count: (min(m, rowBlock) + mr) * depth)
                            scratch = buffer
                            fledge_pack_a(height, depth, a.base + i0 * a.rowStride + p0 * a.columnStride,
                                          a.rowStride, a.columnStride, buffer.pointer)
                            tiles = .packedA(UnsafePointer(buffer.pointer), depth: depth)
                        case .packed(let a):
                            tiles = .packedA(a.panels(row: i0, depthStart: p0, depth: depth), depth: depth)
                        }
                        let columnStart = panelRange.lowerBound * nr
                        let columns = min(panelRange.upperBound * nr, width) - columnStart
                        let panelSource: KernelOperand = if let inPlaceB {
                            .inPlace(inPlaceB, row: p0, column: j0 + columnStart)
                        } else {
                            .packedB(UnsafePointer(packedB!.pointer + columnStart * depth), depth: depth)
                        }
                        microKernel(rows: height, columns: columns, depth: depth, tiles, panelSource,
                                    into: c + i0 * ldc + j0 + columnStart, ldc: ldc, accumulate: first, kernels: kernels)
                    }
                }
                p0 += depth
            }
            j0 += width
        }
    }

    /// C[rows × columns] (+)= A · B through the micro-kernel of the set: `fledge_gemm_panels`
    /// (AVX2) or `fledge_gemm_panels_avx512`, which read the same tiles and panels.
    static func microKernel(
        rows: Int, columns: Int, depth: Int, _ a: KernelOperand, _ b: KernelOperand,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Int32, kernels: KernelSet = CPU.kernelSet
    ) {
        if kernels >= .avx512 {
            fledge_gemm_panels_avx512(rows, columns, depth, a.base, a.tileStride, a.rowStride, a.depthStride,
                                      b.base, b.tileStride, b.depthStride, c, ldc, accumulate)
        } else {
            fledge_gemm_panels(rows, columns, depth, a.base, a.tileStride, a.rowStride, a.depthStride,
                               b.base, b.tileStride, b.depthStride, c, ldc, accumulate)
        }
    }
}

/// Where the GEMM micro-kernel reads an operand: A in tiles of `FLEDGE_GEMM_MR` rows, B in
/// panels of `FLEDGE_GEMM_NR` contiguous columns, packed or in place (see `fledge_gemm_panels`).
struct KernelOperand {
    let base: UnsafePointer<Float>
    /// From one tile of rows (A) or panel of columns (B) to the next.
    let tileStride: Int
    /// From one row of a tile to the next (A only).
    let rowStride: Int
    /// From one step of depth to the next.
    let depthStride: Int

    /// Tiles of A as `fledge_pack_a` packs a block `depth` deep.
    static func packedA(_ base: UnsafePointer<Float>, depth: Int) -> KernelOperand {
        let mr = Int(FLEDGE_GEMM_MR)
        return KernelOperand(base: base, tileStride: mr * depth, rowStride: 1, depthStride: mr)
    }

    /// Panels of B as `fledge_pack_b` packs a block `depth` deep.
    static func packedB(_ base: UnsafePointer<Float>, depth: Int) -> KernelOperand {
        let nr = Int(FLEDGE_GEMM_NR)
        return KernelOperand(base: base, tileStride: nr * depth, rowStride: 0, depthStride: nr)
    }

    /// A's tiles read where they lie, from element (row, depth).
    static func inPlace(_ a: MatrixOperand, row: Int, depth: Int) -> KernelOperand {
        KernelOperand(base: a.base + row * a.rowStride + depth * a.columnStride, tileStride: Int(FLEDGE_GEMM_MR) * a.rowStride,
                      rowStride: a.rowStride, depthStride: a.columnStride)
    }

    /// B's panels read where they lie (unit column stride), from element (row, column).
    static func inPlace(_ b: MatrixOperand, row: Int, column: Int) -> KernelOperand {
        KernelOperand(base: b.base + row * b.rowStride + column, tileStride: Int(FLEDGE_GEMM_NR), rowStride: 0,
                      depthStride: b.rowStride)
    }
}
