extension Tensor {
    /// `self [..., W.columns] · Wᵀ → [..., W.rows]`: a linear layer's product with its frozen,
    /// block-quantized `[out, in]` weight. Differentiable in `self` (the gradient is
    /// `g · W`, through the same quantized kernels); the weight takes no gradient.
    public func matmul(transposedQuantized weight: QuantizedMatrix) -> Tensor {
        let k = weight.columns
        precondition(rank >= 1 && shape[rank - 1] == k, "matmul: \(shape) · quantized [\(weight.rows), \(k)]ᵀ: inner dimensions differ")
        let rows = Tensor.withoutGrad { reshaped([-1, k]) }
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [weight.rows])
        QuantizedGEMM.multiplyTransposed(m: rows.shape[0], rows.matrixOperand, weight, into: out.pointer, ldc: weight.rows)
        return out.recording([self], .quantizedMatmul(weight))
    }

    /// `self [..., W.rows] · W → [..., W.columns]` (the input gradient of
    /// `matmul(transposedQuantized:)`); not differentiable itself.
    func matmul(quantized weight: QuantizedMatrix) -> Tensor {
        let k = weight.rows
        precondition(shape[rank - 1] == k, "matmul: \(shape) · quantized [\(k), \(weight.columns)]: inner dimensions differ")
        let rows = Tensor.withoutGrad { reshaped([-1, k]) }
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [weight.columns])
        QuantizedGEMM.multiply(m: rows.shape[0], rows.matrixOperand, weight, into: out.pointer, ldc: weight.columns)
        return out
    }
}
