/// Reshape, transpose, permute, slice and broadcast: views that share storage where possible.
extension Tensor {
    /// The same elements with a new shape (one dimension may be -1). A view when the
    /// tensor is contiguous, a copy otherwise.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let target = Shape.resolve(newShape, count: count)
        if target == shape { return self }
        let source = contiguous()
        let out = Tensor(storage: source.storage, shape: target, strides: Shape.contiguousStrides(target), offset: source.offset)
        return out.recording([source], .reshape(inputShape: shape))
    }

    /// Reorders the dimensions: result dimension `i` is input dimension `order[i]`. A view.
    public func permuted(_ order: [Int]) -> Tensor {
        let order = order.map { Shape.axis($0, rank: rank) }
        precondition(order.sorted() == Array(0..<rank), "permuted(\(order)) is not a permutation of 0..<\(rank)")
        let out = Tensor(storage: storage, shape: order.map { shape[$0] }, strides: order.map { strides[$0] }, offset: offset)
        var inverse = [Int](repeating: 0, count: rank)
        for (position, axis) in order.enumerated() { inverse[axis] = position }
        return out.recording([self], .permute(inverse: inverse))
    }

    /// Swaps two dimensions (by default the last two). A view.
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(Shape.axis(first, rank: rank), Shape.axis(second, rank: rank))
        return permuted(order)
    }

    /// The elements `range` along `axis`. A view.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = Shape.axis(axis, rank: rank)
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[axis],
            "slice \(range) is out of bounds for dimension \(axis) of size \(shape[axis])")
        var newShape = shape
        newShape[axis] = range.count
        let out = Tensor(storage: storage, shape: newShape, strides: strides, offset: offset + range.lowerBound * strides[axis])
        return out.recording([self], .slice(inputShape: shape, axis: axis, start: range.lowerBound))
    }

    /// This tensor broadcast to `target` (size-1 dimensions repeated, leading ones added). A view.
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let out = Tensor(storage: storage, shape: target,
                         strides: Shape.broadcastStrides(shape: shape, strides: strides, to: target), offset: offset)
        return out.recording([self], .expand(inputShape: shape))
    }

    /// Inserts a dimension of size 1 at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        var newShape = shape
        newShape.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(newShape)
    }

    /// Removes a dimension of size 1 at `axis`.
    public func squeezed(_ axis: Int) -> Tensor {
        let axis = Shape.axis(axis, rank: rank)
        precondition(shape[axis] == 1, "squeezed(\(axis)) needs a dimension of size 1, got \(shape[axis])")
        var newShape = shape
        newShape.remove(at: axis)
        return reshaped(newShape)
    }

    /// Joins tensors along an existing axis; all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat needs at least one tensor")
        let first = tensors[0]
        let axis = Shape.axis(axis, rank: first.rank)
        for tensor in tensors {
            precondition(
                tensor.rank == first.rank && tensor.shape.indices.allSatisfy { $0 == axis || tensor.shape[$0] == first.shape[$0] },
                "concat along \(axis): shape \(tensor.shape) does not match \(first.shape)")
        }
        var shape = first.shape
        shape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let out = Tensor(uninitializedShape: shape)
        let layout = AxisLayout(shape, axis: axis)
        var start = 0
        for tensor in tensors {
            let source = tensor.contiguous()
            let block = tensor.shape[axis] * layout.inner
            for o in 0..<layout.outer {
                (out.pointer + o * layout.length * layout.inner + start * layout.inner)
                    .update(from: source.pointer + o * block, count: block)
            }
            start += tensor.shape[axis]
        }
        return out.recording(tensors, .concat(axis: axis, sizes: tensors.map { $0.shape[axis] }))
    }

    /// Joins equally shaped tensors along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack needs at least one tensor")
        return concat(tensors.map { $0.unsqueezed(axis) }, axis: axis)
    }

    /// A contiguous copy of `self`, zero elsewhere, placed at `start` along `axis` of a
    /// tensor of `shape` (the adjoint of `slice`).
    func padded(into shape: [Int], axis: Int, start: Int) -> Tensor {
        let out = Tensor.zeros(shape)
        let window = Tensor(storage: out.storage, shape: self.shape, strides: out.strides,
                            offset: start * out.strides[axis])
        let source = contiguous()
        var row = 0
        let inner = self.shape.last ?? 1
        let step = window.strides.last ?? 1
        StridedRows.forEach(shape: self.shape, window.strides) { offset, _, _ in
            let to = window.pointer + offset, from = source.pointer + row * inner
            for index in 0..<inner { to[index * step] = from[index] }
            row += 1
        }
        return out
    }

    /// Sums `self` over the dimensions that were broadcast from `shape` (the adjoint of `expanded`).
    func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        var result = self
        for axis in stride(from: rank - 1, through: 0, by: -1) {
            let targetSize = axis < lead ? 1 : target[axis - lead]
            if shape[axis] != targetSize { result = result.sum(axis: axis, keepDims: true) }
        }
        return result.reshaped(target)
    }
}
