import Foundation

/// Elementwise functions of one tensor.
enum UnaryKind: Sendable {
    case exp, log, sqrt, rsqrt, negate, abs, sigmoid, logSigmoid, silu, tanh, relu, square

    /// Whether the backward rule reads the result (`true`) or the input (`false`).
    var backwardUsesOutput: Bool {
        switch self {
        case .exp, .sqrt, .rsqrt, .sigmoid, .tanh: return true
        case .log, .negate, .abs, .logSigmoid, .silu, .relu, .square: return false
        }
    }
}

extension Tensor {
    public func exp() -> Tensor { unary(.exp) }
    public func log() -> Tensor { unary(.log) }
    public func sqrt() -> Tensor { unary(.sqrt) }
    /// 1 / sqrt(x).
    public func rsqrt() -> Tensor { unary(.rsqrt) }
    public func abs() -> Tensor { unary(.abs) }
    public func sigmoid() -> Tensor { unary(.sigmoid) }
    /// log(sigmoid(x)), computed without overflow.
    public func logSigmoid() -> Tensor { unary(.logSigmoid) }
    /// x · sigmoid(x).
    public func silu() -> Tensor { unary(.silu) }
    public func tanh() -> Tensor { unary(.tanh) }
    public func relu() -> Tensor { unary(.relu) }
    public func square() -> Tensor { unary(.square) }
    public static prefix func - (value: Tensor) -> Tensor { value.unary(.negate) }

    func unary(_ kind: UnaryKind) -> Tensor {
        let source = contiguous()
        let out = Tensor(uninitializedShape: shape)
        UnaryKernel.forward(kind, source.pointer, out.pointer, count)
        return out.recording(
            [self],
            .unary(kind, saved: kind.backwardUsesOutput ? out.detached() : source.detached()))
    }
}

/// Forward and derivative formulas of `UnaryKind`, over contiguous buffers.
enum UnaryKernel {
    static func forward(_ kind: UnaryKind, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch kind {
        case .exp: for i in 0..<n { y[i] = Foundation.exp(x[i]) }
        case .log: for i in 0..<n { y[i] = Foundation.log(x[i]) }
        case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
        case .rsqrt: for i in 0..<n { y[i] = 1 / x[i].squareRoot() }
        case .negate: for i in 0..<n { y[i] = -x[i] }
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .sigmoid: for i in 0..<n { y[i] = sigmoid(x[i]) }
        case .logSigmoid: for i in 0..<n { y[i] = logSigmoid(x[i]) }
        case .silu: for i in 0..<n { y[i] = x[i] * sigmoid(x[i]) }
        case .tanh: for i in 0..<n { y[i] = Foundation.tanh(x[i]) }
        case .relu: for i in 0..<n { y[i] = Swift.max(x[i], 0) }
        case .square: for i in 0..<n { y[i] = x[i] * x[i] }
        }
    }

    /// dx = g · f'(x), where `saved` is the output or the input per `backwardUsesOutput`.
    static func backward(
        _ kind: UnaryKind, saved s: UnsafePointer<Float>, grad g: UnsafePointer<Float>,
        _ dx: UnsafeMutablePointer<Float>, _ n: Int
    ) {
        switch kind {
        case .exp: for i in 0..<n { dx[i] = g[i] * s[i] }
        case .log: for i in 0..<n { dx[i] = g[i] / s[i] }
        case .sqrt: for i in 0..<n { dx[i] = g[i] * 0.5 / s[i] }
        case .rsqrt: for i in 0..<n { dx[i] = g[i] * -0.5 * s[i] * s[i] * s[i] }
        case .negate: for i in 0..<n { dx[i] = -g[i] }
        case .abs: for i in 0..<n { dx[i] = s[i] > 0 ? g[i] : (s[i] < 0 ? -g[i] : 0) }
        case .sigmoid: for i in 0..<n { dx[i] = g[i] * s[i] * (1 - s[i]) }
        case .logSigmoid: for i in 0..<n { dx[i] = g[i] * sigmoid(-s[i]) }
        case .silu:
            for i in 0..<n {
                let sig = sigmoid(s[i])
                dx[i] = g[i] * sig * (1 + s[i] * (1 - sig))
            }
        case .tanh: for i in 0..<n { dx[i] = g[i] * (1 - s[i] * s[i]) }
        case .relu: for i in 0..<n { dx[i] = s[i] > 0 ? g[i] : 0 }
        case .square: for i in 0..<n { dx[i] = 2 * g[i] * s[i] }
        }
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }

    /// log σ(x) = min(x, 0) − log1p(e^−|x|): stable for large |x|.
    @inline(__always)
    static func logSigmoid(_ x: Float) -> Float { Swift.min(x, 0) - Foundation.log1p(Foundation.exp(-Swift.abs(x))) }
}
