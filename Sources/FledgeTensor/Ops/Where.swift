extension Tensor {
    /// Picks `whenTrue` where `condition` is nonzero and `whenFalse` elsewhere, broadcasting
    /// all three. The condition gets no gradient.
    public static func select(_ condition: Tensor, _ whenTrue: Tensor, _ whenFalse: Tensor) -> Tensor {
        let shape = Shape.broadcast(Shape.broadcast(condition.shape, whenTrue.shape), whenFalse.shape)
        let mask = condition.expanded(to: shape).detached().contiguous()
        let a = whenTrue.expanded(to: shape).detached().contiguous()
        let b = whenFalse.expanded(to: shape).detached().contiguous()
        let out = Tensor(uninitializedShape: shape)
        let m = mask.pointer, pa = a.pointer, pb = b.pointer, c = out.pointer
        for index in 0..<out.count { c[index] = m[index] != 0 ? pa[index] : pb[index] }
        return out.recording([whenTrue, whenFalse], .select(mask, shapes: [whenTrue.shape, whenFalse.shape]))
    }

    /// Replaces the elements where `mask` is nonzero by `value` (broadcasting `mask`).
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        Tensor.select(mask, Tensor.scalar(value), self)
    }
}
