extension Tensor {
    /// Matrix product over the last two dimensions, `[..., M, K] · [..., K, N] → [..., M, N]`,
    /// with the leading (batch) dimensions broadcast. Transposed operands (`transposed()`)
    /// are read in place, never copied. Under bfloat16 `Autocast` the operands are rounded to
    /// bfloat16, the product accumulates in float32 and is rounded to bfloat16, as PyTorch's CPU
    /// autocast computes `matmul` and `linear`.
    public func matmul(_ other: Tensor) -> Tensor {
        guard Autocast.isBFloat16 else { return product(other, bfloat16Operands: false) }
        return bfloat16Product(other).roundedToBFloat16()
    }

    /// `bf16(self) · bf16(other)` accumulated in float32, not rounded: both operands are rounded by
    /// recorded ops, so the gradients that reach them are rounded to bfloat16 as well.
    func bfloat16Product(_ other: Tensor) -> Tensor {
        roundedToBFloat16().product(other.roundedToBFloat16(), bfloat16Operands: true)
    }

    /// The product of `matmul`; `bfloat16Operands` says that both operands hold bfloat16 values, which
    /// `vdpbf16ps` multiplies where the CPU has it (`BFloat16GEMM`); the backward is float32 GEMM of
    /// the same bfloat16 values.
    private func product(_ other: Tensor, bfloat16Operands: Bool) -> Tensor {
        let gemm: (Int, Int, Int, MatrixOperand, MatrixOperand, UnsafeMutablePointer<Float>, Int) -> Void
        if bfloat16Operands && CPU.hasAVX512BF16 {
            gemm = { m, n, k, a, b, c, ldc in BFloat16GEMM.multiply(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: false) }
        } else {
            gemm = { m, n, k, a, b, c, ldc in GEMM.multiply(m: m, n: n, k: k, a, b, into: c, ldc: ldc, accumulate: false) }
        }
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
            gemm(rows.shape[0], n, k, rows.matrixOperand, other.matrixOperand, out.pointer, n)
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
                gemm(m, n, k, a, b, out.pointer + index * m * n, n)
                index += 1
            }
        }
        // Each operand's gradient reads only the other operand: an operand is kept only when the
        // other takes a gradient (a frozen weight's product keeps nothing of its input).
        return out.recording([self, other], .matmul(other.requiresGrad ? SavedTensor(self) : nil, requiresGrad ? SavedTensor(other) : nil,
                                                    shapes: [shape, other.shape]))
    }

    /// A rank-2 tensor as a strided GEMM operand.
    var matrixOperand: MatrixOperand {
        MatrixOperand(base: pointer, rowStride: strides[0], columnStride: strides[1])
    }
}
