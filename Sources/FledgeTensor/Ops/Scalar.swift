import Foundation

/// Operations of a tensor with a constant.
extension Tensor {
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: 1, shift: rhs) }
    public static func + (lhs: Float, rhs: Tensor) -> Tensor { rhs.affine(scale: 1, shift: lhs) }
    public static func - (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: 1, shift: -rhs) }
    public static func - (lhs: Float, rhs: Tensor) -> Tensor { rhs.affine(scale: -1, shift: lhs) }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: rhs, shift: 0) }
    public static func * (lhs: Float, rhs: Tensor) -> Tensor { rhs.affine(scale: lhs, shift: 0) }
    public static func / (lhs: Tensor, rhs: Float) -> Tensor { lhs.affine(scale: 1 / rhs, shift: 0) }

    /// scale · x + shift.
    func affine(scale: Float, shift: Float) -> Tensor {
        let source = contiguous()
        let out = Tensor(uninitializedShape: shape)
        let x = source.pointer, y = out.pointer
        for index in 0..<count { y[index] = x[index] * scale + shift }
        return out.recording([self], .scale(scale))
    }

    /// x raised to a constant power.
    public func pow(_ exponent: Float) -> Tensor {
        let source = contiguous()
        let out = Tensor(uninitializedShape: shape)
        let x = source.pointer, y = out.pointer
        for index in 0..<count { y[index] = Foundation.pow(x[index], exponent) }
        return out.recording([self], .power(source.detached(), exponent))
    }

    /// Limits every element to `[lower, upper]`; the gradient passes where
    /// `lower <= x <= upper`, as in PyTorch.
    public func clamp(min lower: Float = -.infinity, max upper: Float = .infinity) -> Tensor {
        let source = contiguous()
        let out = Tensor(uninitializedShape: shape)
        let x = source.pointer, y = out.pointer
        for index in 0..<count { y[index] = Swift.min(Swift.max(x[index], lower), upper) }
        return out.recording([self], .clamp(source.detached(), lower, upper))
    }
}
