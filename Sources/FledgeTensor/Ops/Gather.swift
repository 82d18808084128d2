extension Tensor {
    /// PyTorch's `gather`: `out[o, l, i] = self[o, indices[o, l, i], i]` around `axis`.
    /// `indexShape` must equal `shape` except along `axis`. The backward scatter-adds.
    public func gather(axis: Int, indices: [Int], indexShape: [Int]) -> Tensor {
        let axis = Shape.axis(axis, rank: rank)
        precondition(indices.count == Shape.count(indexShape), "gather: \(indices.count) indices for index shape \(indexShape)")
        precondition(
            indexShape.count == rank && indexShape.indices.allSatisfy { $0 == axis || indexShape[$0] == shape[$0] },
            "gather along \(axis): index shape \(indexShape) must match \(shape) outside the axis")
        let limit = shape[axis]
        if let bad = indices.first(where: { $0 < 0 || $0 >= limit }) {
            preconditionFailure("gather: index \(bad) is out of range for dimension \(axis) of size \(limit)")
        }
        let source = contiguous()
        let out = Tensor(uninitializedShape: indexShape)
        let layout = AxisLayout(indexShape, axis: axis)
        let x = source.pointer, y = out.pointer
        for o in 0..<layout.outer {
            for l in 0..<layout.length {
                for i in 0..<layout.inner {
                    let slot = (o * layout.length + l) * layout.inner + i
                    y[slot] = x[(o * limit + indices[slot]) * layout.inner + i]
                }
            }
        }
        return out.recording([self], .gather(inputShape: shape, axis: axis, indices: indices))
    }

    /// Rows of `self` picked by `indices` (an embedding lookup): `[V, ...]` → `indexShape + [...]`.
    /// The backward scatter-adds into the rows used.
    public func indexSelect(_ indices: [Int], indexShape: [Int]) -> Tensor {
        precondition(rank >= 1, "indexSelect needs a tensor of rank >= 1")
        precondition(indices.count == Shape.count(indexShape), "indexSelect: \(indices.count) indices for index shape \(indexShape)")
        if let bad = indices.first(where: { $0 < 0 || $0 >= shape[0] }) {
            preconditionFailure("indexSelect: index \(bad) is out of range for \(shape[0]) rows")
        }
        let source = contiguous()
        let rowSize = count / Swift.max(shape[0], 1)
        let out = Tensor(uninitializedShape: indexShape + shape.dropFirst())
        for (slot, index) in indices.enumerated() {
            (out.pointer + slot * rowSize).update(from: source.pointer + index * rowSize, count: rowSize)
        }
        return out.recording([self], .indexSelect(inputShape: shape, indices: indices))
    }
}

enum ScatterKernel {
    /// The adjoint of `gather`: adds `grad[o, l, i]` into `out[o, indices[o, l, i], i]`.
    static func gatherBackward(_ grad: Tensor, inputShape: [Int], axis: Int, indices: [Int]) -> Tensor {
        let out = Tensor.zeros(inputShape)
        let g = grad.contiguous()
        let layout = AxisLayout(g.shape, axis: axis)
        let limit = inputShape[axis]
        for o in 0..<layout.outer {
            for l in 0..<layout.length {
                for i in 0..<layout.inner {
                    let slot = (o * layout.length + l) * layout.inner + i
                    out.pointer[(o * limit + indices[slot]) * layout.inner + i] += g.pointer[slot]
                }
            }
        }
        return out
    }

    /// The adjoint of `indexSelect`: adds each gradient row into the row it was read from.
    static func indexSelectBackward(_ grad: Tensor, inputShape: [Int], indices: [Int]) -> Tensor {
        let out = Tensor.zeros(inputShape)
        let g = grad.contiguous()
        let rowSize = Shape.count(inputShape) / Swift.max(inputShape[0], 1)
        for (slot, index) in indices.enumerated() {
            let to = out.pointer + index * rowSize, from = g.pointer + slot * rowSize
            for column in 0..<rowSize { to[column] += from[column] }
        }
        return out
    }
}
