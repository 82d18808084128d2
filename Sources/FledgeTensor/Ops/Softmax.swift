import Foundation

extension Tensor {
    /// exp(x) / Σ exp(x) along `axis`.
    public func softmax(axis: Int = -1) -> Tensor { normalize(axis: axis, log: false) }
    /// x − logsumexp(x) along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor { normalize(axis: axis, log: true) }

    private func normalize(axis: Int, log: Bool) -> Tensor {
        let axis = Shape.axis(axis, rank: rank)
        let source = contiguous()
        let layout = AxisLayout(shape, axis: axis)
        let out = Tensor(uninitializedShape: shape)
        let x = source.pointer, y = out.pointer
        let (length, inner) = (layout.length, layout.inner)
        Parallel.forRanges(layout.outer * inner, minChunk: Swift.max(1, 16_384 / Swift.max(length, 1))) { range in
            for slot in range {
                let o = slot / inner, i = slot % inner
                let base = o * length * inner + i
                let lse = ReductionKernel.logSumExp(x + base, length, stride: inner)
                for j in 0..<length {
                    let value = x[base + j * inner] - lse
                    y[base + j * inner] = log ? value : Foundation.exp(value)
                }
            }
        }
        return out.recording([self], .softmax(output: out.detached(), axis: axis, log: log))
    }
}
