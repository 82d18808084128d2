extension Tensor {
    /// Matrix product over the last two dimensions, `[..., M, K] · [..., K, N] → [..., M, N]`,
    /// with the leading (batch) dimensions broadcast. Transposed operands (`transposed()`)
    /// are read in place, never copied.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank >= 2 && other.rank >= 2,
                     "matmul needs operands of rank >= 2, got \(shape) and \(other.shape)")
        let (m, k) = (shape[rank - 2], shape[rank - 1])
        let (k2, n) = (other.shape[other.rank - 2], other.shape[other.rank - 1])
        precondition(k == k2, "matmul: inner dimensions differ: \(shape) · \(other.shape)")

        let out: Tensor
        if other.rank == 2 && rank > 2 {
            // Fold the batch into the rows: one large product instead of many small ones.
            let rows = Tensor.withoutGrad { reshaped([-1, k]) }
            out = Tensor(uninitializedShape: Array(shape.dropLast()) + [n])
            GEMM.multiply(m: rows.shape[0], n: n, k: k, rows.matrixOperand, other.matrixOperand,
                          into: out.pointer, ldc: n, accumulate: false)
        } else {
            let batch = Shape.broadcast(Array(shape.dropLast(2)), Array(other.shape.dropLast(2)))
            let aStrides = Shape.broadcastStrides(shape: Array(shape.dropLast(2)), strides: Array(strides.dropLast(2)), to: batch)
            let bStrides = Shape.broadcastStrides(shape: Array(other.shape.dropLast(2)), strides: Array(other.strides.dropLast(2)), to: batch)
            out = Tensor(uninitializedShape: batch + [m, n])
            var index = 0
            StridedRows.forEach(shape: batch + [1], aStrides + [0], bStrides + [0]) { offsetA, offsetB, _ in
                let a = MatrixOperand(base: pointer + offsetA, rowStride: strides[rank - 2], columnStride: strides[rank - 1])
                let b = MatrixOperand(base: other.pointer + offsetB, rowStride: other.strides[other.rank - 2],
                                      columnStride: other.strides[other.rank - 1])
                GEMM.multiply(m: m, n: n, k: k, a, b, into: out.pointer + index * m * n, ldc: n, accumulate: false)
                index += 1
            }
        }
        return out.recording([self, other], .matmul(detached(), other.detached()))
    }

    /// A rank-2 tensor as a strided GEMM operand.
    var matrixOperand: MatrixOperand {
        MatrixOperand(base: pointer, rowStride: strides[0], columnStride: strides[1])
    }
}
