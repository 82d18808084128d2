import Foundation

/// A contiguous tensor viewed as `[outer, length, inner]` around one axis.
struct AxisLayout {
    let outer: Int
    let length: Int
    let inner: Int

    init(_ shape: [Int], axis: Int) {
        outer = Shape.count(Array(shape[..<axis]))
        length = shape[axis]
        inner = Shape.count(Array(shape[(axis + 1)...]))
    }
}

extension Tensor {
    /// Sum over `axis`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { reduce(.sum, axis: axis, keepDims: keepDims) }
    /// Mean over `axis`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { reduce(.mean, axis: axis, keepDims: keepDims) }
    /// Maximum over `axis` (PyTorch's `max(dim).values`): the gradient goes to the first maximum.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { reduce(.max, axis: axis, keepDims: keepDims) }
    /// log Σ exp over `axis`, computed stably.
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor { reduce(.logSumExp, axis: axis, keepDims: keepDims) }

    /// Sum over several axes.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let resolved = Set(axes.map { Shape.axis($0, rank: rank) }).sorted(by: >)
        return resolved.reduce(self) { $0.sum(axis: $1, keepDims: keepDims) }
    }

    /// Sum of every element, as a zero-dimensional tensor.
    public func sum() -> Tensor { reshaped([count]).sum(axis: 0) }
    /// Mean of every element, as a zero-dimensional tensor.
    public func mean() -> Tensor { reshaped([count]).mean(axis: 0) }

    func reduce(_ kind: ReductionKind, axis: Int, keepDims: Bool) -> Tensor {
        let axis = Shape.axis(axis, rank: rank)
        let source = contiguous()
        let layout = AxisLayout(shape, axis: axis)
        var keptShape = shape
        keptShape[axis] = 1
        let out = Tensor(uninitializedShape: keptShape)
        var argmax: [Int32] = []
        ReductionKernel.run(kind, source.pointer, out.pointer, layout, argmax: &argmax)
        var resultShape = keptShape
        if !keepDims { resultShape.remove(at: axis) }
        let result = Tensor(storage: out.storage, shape: resultShape, strides: Shape.contiguousStrides(resultShape))
        let saved: BackwardRule
        switch kind {
        case .sum, .mean: saved = .reduce(kind, inputShape: shape, axis: axis)
        case .max: saved = .maxReduce(inputShape: shape, axis: axis, argmax: argmax)
        case .logSumExp: saved = .logSumExp(source.detached(), result: out.detached())
        }
        return result.recording([self], saved)
    }
}

enum ReductionKind: Sendable { case sum, mean, max, logSumExp }

enum ReductionKernel {
    static func run(
        _ kind: ReductionKind, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        _ layout: AxisLayout, argmax: inout [Int32]
    ) {
        let (outer, length, inner) = (layout.outer, layout.length, layout.inner)
        if kind == .max { argmax = [Int32](repeating: 0, count: outer * inner) }
        for o in 0..<outer {
            for i in 0..<inner {
                let base = x + o * length * inner + i
                let slot = o * inner + i
                switch kind {
                case .sum, .mean:
                    var total: Double = 0
                    for j in 0..<length { total += Double(base[j * inner]) }
                    y[slot] = Float(kind == .mean ? total / Double(length) : total)
                case .max:
                    var best = base[0], bestIndex = 0
                    for j in 1..<Swift.max(length, 1) where base[j * inner] > best {
                        best = base[j * inner]
                        bestIndex = j
                    }
                    y[slot] = best
                    argmax[slot] = Int32(bestIndex)
                case .logSumExp:
                    y[slot] = logSumExp(base, length, stride: inner)
                }
            }
        }
    }

    static func logSumExp(_ x: UnsafePointer<Float>, _ length: Int, stride: Int) -> Float {
        var peak = -Float.infinity
        for j in 0..<length { peak = Swift.max(peak, x[j * stride]) }
        if peak == -.infinity { return -.infinity }
        var total: Float = 0
        for j in 0..<length { total += Foundation.exp(x[j * stride] - peak) }
        return peak + Foundation.log(total)
    }
}
