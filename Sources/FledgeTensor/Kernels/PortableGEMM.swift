/// The portable GEMM in plain Swift: cache-blocked and threaded, vectorised only as far as
/// the default x86-64 target allows (SSE). Used on CPUs without AVX2/FMA and as the plain
/// reference the fast kernels are tested against.
enum PortableGEMM {
    static let columnBlock = 512
    static let depthBlock = 256

    static func multiply(
        m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand,
        into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, parallel: Bool = true
    ) {
        guard m > 0, n > 0 else { return }
        if !accumulate {
            for row in 0..<m { (c + row * ldc).initialize(repeating: 0, count: n) }
        }
        guard k > 0 else { return }
        if a.columnStride == 1, b.rowStride == 1, b.columnStride != 1 {
            dotKernel(m: m, n: n, k: k, a, b, into: c, ldc: ldc, parallel: parallel)
            return
        }
        // Row-major copies where an operand's inner dimension is strided.
        let packedA = a.columnStride == 1 ? nil : pack(a, rows: m, columns: k)
        let packedB = b.columnStride == 1 ? nil : pack(b, rows: k, columns: n)
        let aBase = packedA.map { UnsafePointer($0.pointer) } ?? a.base
        let lda = packedA == nil ? a.rowStride : k
        let bBase = packedB.map { UnsafePointer($0.pointer) } ?? b.base
        let ldb = packedB == nil ? b.rowStride : n
        withExtendedLifetime((packedA, packedB)) {
            let splitRows = m >= 4 * Parallel.workers
            Parallel.forRanges(splitRows ? m : n, minChunk: splitRows ? 4 : 64, parallel: parallel) { part in
                let rows = splitRows ? part : 0..<m
                let columns = splitRows ? 0..<n : part
                kernel(rows: rows, columns: columns, k: k, aBase, lda, bBase, ldb, c, ldc)
            }
        }
    }

    /// `A·Bᵀ` with both operands unit-stride along k (a linear layer with `[out, in]`
    /// weights): one dot product per output, B read in blocks of rows that stay in cache.
    private static func dotKernel(m: Int, n: Int, k: Int, _ a: MatrixOperand, _ b: MatrixOperand,
                                  into c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool) {
        let blockRows = max(1, 16_384 / max(k, 1))
        Parallel.forRanges(n, minChunk: max(1, min(blockRows, n / Parallel.workers)), parallel: parallel) { columns in
            var j0 = columns.lowerBound
            while j0 < columns.upperBound {
                let j1 = min(j0 + blockRows, columns.upperBound)
                for i in 0..<m {
                    let aRow = a.base + i * a.rowStride
                    let cRow = c + i * ldc
                    for j in j0..<j1 {
                        cRow[j] += dotProduct(aRow, b.base + j * b.columnStride, k)
                    }
                }
                j0 = j1
            }
        }
    }

    private static func pack(_ operand: MatrixOperand, rows: Int, columns: Int) -> TensorStorage {
        let storage = TensorStorage(count: rows * columns)
        for row in 0..<rows {
            let from = operand.base + row * operand.rowStride
            let to = storage.pointer + row * columns
            for column in 0..<columns { to[column] = from[column * operand.columnStride] }
        }
        return storage
    }

    /// C[rows, columns] += A[rows, :] · B[:, columns] with unit column strides.
    private static func kernel(
        rows: Range<Int>, columns: Range<Int>, k: Int,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        var j0 = columns.lowerBound
        while j0 < columns.upperBound {
            let width = min(columnBlock, columns.upperBound - j0)
            var p0 = 0
            while p0 < k {
                let depth = min(depthBlock, k - p0)
                for i in rows {
                    let cRow = c + i * ldc + j0
                    let aRow = a + i * lda + p0
                    var p = 0
                    while p + 4 <= depth {
                        let a0 = aRow[p], a1 = aRow[p + 1], a2 = aRow[p + 2], a3 = aRow[p + 3]
                        let b0 = b + (p0 + p) * ldb + j0
                        let b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb
                        for j in 0..<width {
                            cRow[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j]
                        }
                        p += 4
                    }
                    while p < depth {
                        let ap = aRow[p]
                        let bRow = b + (p0 + p) * ldb + j0
                        for j in 0..<width { cRow[j] += ap * bRow[j] }
                        p += 1
                    }
                }
                p0 += depth
            }
            j0 += width
        }
    }
}
