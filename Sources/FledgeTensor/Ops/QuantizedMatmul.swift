extension Tensor {
    /// `self [..., W.columns] · Wᵀ → [..., W.rows]`: a linear layer's product with its frozen,
    /// block-quantized `[out, in]` weight. Differentiable in `self` (the gradient is
    /// `g · W`, through the same quantized kernels); the weight takes no gradient.
    ///
    /// Under bfloat16 `Autocast`, a weight stored in bfloat16 (`BFloat16Blocks`) is multiplied as
    /// `matmul` multiplies a float weight there: `self` rounded to bfloat16, the product accumulated
    /// in float32 and rounded to bfloat16 — the same values, summed in the same order, as the float
    /// weight it was rounded from gives. Other formats multiply in float32 under autocast too.
    public func matmul(transposedQuantized weight: QuantizedMatrix) -> Tensor {
        guard autocastsProduct(with: weight) else { return quantizedProduct(weight) }
        return roundedToBFloat16().quantizedProduct(weight).roundedToBFloat16()
    }

    /// `matmul(transposedQuantized:) + bias` (`bias` broadcast over the rows), as `matmul(_:adding:)`
    /// computes it for a float weight: under bfloat16 `Autocast` with a bfloat16 weight, the sum of
    /// the float32-accumulated product and the bfloat16 bias is rounded once.
    public func matmul(transposedQuantized weight: QuantizedMatrix, adding bias: Tensor?) -> Tensor {
        guard let bias else { return matmul(transposedQuantized: weight) }
        guard autocastsProduct(with: weight) else { return quantizedProduct(weight) + bias }
        return (roundedToBFloat16().quantizedProduct(weight) + bias.roundedToBFloat16()).roundedToBFloat16()
    }

    /// Whether a product with `weight` is a bfloat16 product now: under bfloat16 `Autocast`, with
    /// a weight that holds bfloat16 values.
    private func autocastsProduct(with weight: QuantizedMatrix) -> Bool {
        Autocast.isBFloat16 && weight.format == .bf16
    }

    /// `self · Wᵀ` in float32, recorded for autograd.
    private func quantizedProduct(_ weight: QuantizedMatrix) -> Tensor {
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
