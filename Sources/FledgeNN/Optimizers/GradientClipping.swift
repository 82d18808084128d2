import FledgeTensor

/// Gradient-norm clipping as `torch.nn.utils.clip_grad_norm_` does it.
public enum GradientClipping {
    /// Scales every gradient by min(1, maxNorm / (norm + 1e-6)), where norm is the L2 norm of all
    /// the parameters' gradients together, and returns that norm (before clipping).
    ///
    /// Parameters without a gradient are left out. The norm is accumulated in double precision;
    /// the scale is computed and applied in float32, as PyTorch does. When the norm is not finite
    /// (an inf or NaN gradient), the gradients are left as they are and the norm is returned as
    /// is, so that the caller can skip the step or stop.
    @discardableResult
    public static func clipGlobalNorm(_ parameters: [Parameter], maxNorm: Double) -> Double {
        let gradients = parameters.compactMap(\.gradient)
        let norm = gradients.reduce(0) { $0 + sumOfSquares($1) }.squareRoot()
        guard norm.isFinite else { return norm }
        let scale = Float(maxNorm) / (Float(norm) + 1e-6)
        guard scale < 1 else { return norm }
        for gradient in gradients {
            gradient.withUnsafeMutableElements { values in
                Parallel.forRanges(values.count, minChunk: 1 << 16) { range in
                    for index in range { values[index] *= scale }
                }
            }
        }
        return norm
    }

    /// Σ x² over the tensor, in float32 over runs of 64 elements (eight lanes of eight) added up
    /// in double precision.
    private static func sumOfSquares(_ tensor: Tensor) -> Double {
        tensor.withUnsafeElements { values in
            var total = 0.0
            let base = values.baseAddress!
            for start in stride(from: 0, to: values.count, by: 64) {
                var lanes = SIMD8<Float>.zero
                for offset in stride(from: start, to: min(start + 64, values.count), by: 8) {
                    let x = SIMD8<Float>(loading: base + offset, count: values.count - offset)
                    lanes += x * x
                }
                total += Double(lanes.sum())
            }
            return total
        }
    }
}
