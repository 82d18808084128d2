/// Elementwise operations of two tensors, with NumPy broadcasting.
enum BinaryKind: Sendable {
    case add, subtract, multiply, divide, maximum, minimum
}

extension Tensor {
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.add, lhs, rhs) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.subtract, lhs, rhs) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.multiply, lhs, rhs) }
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { binary(.divide, lhs, rhs) }

    /// The elementwise maximum; at ties the gradient is split evenly, as PyTorch does.
    public static func maximum(_ lhs: Tensor, _ rhs: Tensor) -> Tensor { binary(.maximum, lhs, rhs) }
    /// The elementwise minimum; at ties the gradient is split evenly, as PyTorch does.
    public static func minimum(_ lhs: Tensor, _ rhs: Tensor) -> Tensor { binary(.minimum, lhs, rhs) }

    static func binary(_ kind: BinaryKind, _ lhs: Tensor, _ rhs: Tensor) -> Tensor {
        let shape = Shape.broadcast(lhs.shape, rhs.shape)
        let out = Tensor(uninitializedShape: shape)
        BinaryKernel.run(kind, lhs, rhs, into: out)
        switch kind {
        case .add, .subtract:
            // The gradients do not depend on the operands: keep only their shapes, so that a sum
            // (a residual, a bias, a LoRA update) holds no activation alive until backward.
            return out.recording([lhs, rhs], .addition(shapes: [lhs.shape, rhs.shape], subtracts: kind == .subtract))
        case .multiply, .divide, .maximum, .minimum:
            return out.recording([lhs, rhs], .binary(kind, lhs.detached(), rhs.detached()))
        }
    }
}

enum BinaryKernel {
    /// Writes `lhs ⊙ rhs` (broadcast to `out.shape`) into the contiguous `out`.
    static func run(_ kind: BinaryKind, _ lhs: Tensor, _ rhs: Tensor, into out: Tensor) {
        switch kind {
        case .add: map(lhs, rhs, out) { $0 + $1 }
        case .subtract: map(lhs, rhs, out) { $0 - $1 }
        case .multiply: map(lhs, rhs, out) { $0 * $1 }
        case .divide: map(lhs, rhs, out) { $0 / $1 }
        case .maximum: map(lhs, rhs, out) { Swift.max($0, $1) }
        case .minimum: map(lhs, rhs, out) { Swift.min($0, $1) }
        }
    }

    @inline(__always)
    static func map(_ lhs: Tensor, _ rhs: Tensor, _ out: Tensor, _ op: (Float, Float) -> Float) {
        let shape = out.shape
        let a = lhs.pointer, b = rhs.pointer, c = out.pointer
        if lhs.shape == shape, rhs.shape == shape, lhs.isContiguous, rhs.isContiguous {
            for index in 0..<out.count { c[index] = op(a[index], b[index]) }
            return
        }
        let sa = Shape.broadcastStrides(shape: lhs.shape, strides: lhs.strides, to: shape)
        let sb = Shape.broadcastStrides(shape: rhs.shape, strides: rhs.strides, to: shape)
        let inner = shape.last ?? 1
        let stepA = sa.last ?? 0, stepB = sb.last ?? 0
        var row = 0
        StridedRows.forEach(shape: shape, sa, sb) { offsetA, offsetB, _ in
            let pa = a + offsetA, pb = b + offsetB, pc = c + row * inner
            if stepA == 1, stepB == 1 {
                for index in 0..<inner { pc[index] = op(pa[index], pb[index]) }
            } else if stepA == 1, stepB == 0 {
                let scalar = pb.pointee
                for index in 0..<inner { pc[index] = op(pa[index], scalar) }
            } else if stepA == 0, stepB == 1 {
                let scalar = pa.pointee
                for index in 0..<inner { pc[index] = op(scalar, pb[index]) }
            } else {
                for index in 0..<inner { pc[index] = op(pa[index * stepA], pb[index * stepB]) }
            }
            row += 1
        }
    }
}
