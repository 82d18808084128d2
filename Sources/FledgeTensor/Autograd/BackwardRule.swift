/// Every backward rule of the engine, in one place.
///
/// Each op records one case with exactly what its backward needs (tensors are detached
/// views, so saving them copies nothing and keeps no graph alive). `inputGradients` returns
/// one gradient per input, nil where `needed` says that input takes no gradient, and is
/// always called with grad mode off.
enum BackwardRule {
    case identity
    case scale(Float)
    case reshape(inputShape: [Int])
    case permute(inverse: [Int])
    case slice(inputShape: [Int], axis: Int, start: Int)
    case expand(inputShape: [Int])
    case concat(axis: Int, sizes: [Int])
    case addition(shapes: [[Int]], subtracts: Bool)
    case binary(BinaryKind, Tensor, Tensor)
    case unary(UnaryKind, saved: Tensor)
    case power(Tensor, Float)
    case clamp(Tensor, Float, Float)
    case select(Tensor, shapes: [[Int]])
    case reduce(ReductionKind, inputShape: [Int], axis: Int)
    case maxReduce(inputShape: [Int], axis: Int, argmax: [Int32])
    case logSumExp(Tensor, result: Tensor)
    case softmax(output: Tensor, axis: Int, log: Bool)
    /// The operands of `a · b`, each saved only where the other takes a gradient, and their shapes.
    case matmul(SavedTensor?, SavedTensor?, shapes: [[Int]])
    case quantizedMatmul(QuantizedMatrix)
    case gather(inputShape: [Int], axis: Int, indices: [Int])
    case indexSelect(inputShape: [Int], indices: [Int])
    case rmsNorm(Tensor, weight: Tensor, inverseRMS: Tensor)
    case rotary(positions: [Int], table: RotaryTable)
    case gatedLinearUnit(GateActivation, gate: Tensor, up: Tensor)
    case attention(AttentionGeometry, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor)
    case selectiveLogSoftmax(LogSoftmaxChunks, hidden: Tensor, weight: Tensor, targets: [Int], saved: Tensor, expectation: Tensor?)
    case checkpoint(CheckpointedSegment)
    /// A `[N]` result whose gradient with respect to its `[N, H]` input is, row by row, the upstream
    /// gradient of the row times the row of a Jacobian computed in the forward (`generalizedJSD`'s fused path).
    case scaledRows(Tensor)
    /// `roundedToBFloat16`: the gradient is rounded to bfloat16 as well.
    case roundToBFloat16

    /// The op's name, for error messages.
    var name: String { "\(self)".prefix { $0 != "(" }.description }

    func inputGradients(_ g: Tensor, needed: [Bool]) -> [Tensor?] {
        switch self {
        case .identity:
            return [g]
        case .scale(let factor):
            return [g * factor]
        case .reshape(let inputShape):
            return [g.reshaped(inputShape)]
        case .permute(let inverse):
            return [g.permuted(inverse)]
        case .slice(let inputShape, let axis, let start):
            return [g.padded(into: inputShape, axis: axis, start: start)]
        case .expand(let inputShape):
            return [g.summed(toShape: inputShape)]
        case .concat(let axis, let sizes):
            var start = 0
            return sizes.map { size in
                defer { start += size }
                return g.slice(axis: axis, start..<start + size)
            }
        case .addition(let shapes, let subtracts):
            return [needed[0] ? g.summed(toShape: shapes[0]) : nil,
                    needed[1] ? (subtracts ? -g : g).summed(toShape: shapes[1]) : nil]
        case .binary(let kind, let a, let b):
            return Self.binaryGradients(kind, g, a, b, needed: needed)
        case .unary(let kind, let saved):
            let upstream = g.contiguous()
            let dx = Tensor(uninitializedShape: saved.shape)
            UnaryKernel.backward(kind, saved: saved.pointer, grad: upstream.pointer, dx.pointer, saved.count)
            return [dx]
        case .power(let x, let exponent):
            return [g * x.pow(exponent - 1) * exponent]
        case .clamp(let x, let lower, let upper):
            let upstream = g.contiguous()
            let dx = Tensor(uninitializedShape: x.shape)
            for i in 0..<x.count {
                let value = x.pointer[i]
                dx.pointer[i] = value >= lower && value <= upper ? upstream.pointer[i] : 0
            }
            return [dx]
        case .select(let mask, let shapes):
            return [needed[0] ? (g * mask).summed(toShape: shapes[0]) : nil,
                    needed[1] ? (g * (1 - mask)).summed(toShape: shapes[1]) : nil]
        case .reduce(let kind, let inputShape, let axis):
            var kept = inputShape
            kept[axis] = 1
            let spread = g.reshaped(kept).expanded(to: inputShape)
            return [kind == .mean ? spread / Float(inputShape[axis]) : spread]
        case .maxReduce(let inputShape, let axis, let argmax):
            let layout = AxisLayout(inputShape, axis: axis)
            let upstream = g.contiguous()
            let dx = Tensor.zeros(inputShape)
            for o in 0..<layout.outer {
                for i in 0..<layout.inner {
                    let slot = o * layout.inner + i
                    dx.pointer[(o * layout.length + Int(argmax[slot])) * layout.inner + i] = upstream.pointer[slot]
                }
            }
            return [dx]
        case .logSumExp(let x, let result):
            return [g.reshaped(result.shape) * (x - result).exp()]
        case .softmax(let y, let axis, let log):
            if log { return [g - y.exp() * g.sum(axis: axis, keepDims: true)] }
            return [y * (g - (g * y).sum(axis: axis, keepDims: true))]
        case .matmul(let a, let b, let shapes):
            return Self.matmulGradients(g, a, b, shapes: shapes, needed: needed)
        case .quantizedMatmul(let weight):
            return [g.matmul(quantized: weight)]
        case .gather(let inputShape, let axis, let indices):
            return [ScatterKernel.gatherBackward(g, inputShape: inputShape, axis: axis, indices: indices)]
        case .indexSelect(let inputShape, let indices):
            return [ScatterKernel.indexSelectBackward(g, inputShape: inputShape, indices: indices)]
        case .rmsNorm(let x, let weight, let inverseRMS):
            return RMSNormKernel.backward(grad: g, input: x, weight: weight, inverseRMS: inverseRMS, needed: needed)
        case .rotary(let positions, let table):
            let upstream = g.contiguous()
            let dx = Tensor(uninitializedShape: g.shape)
            RotaryKernel.rotate(upstream.pointer, into: dx.pointer, shape: g.shape, positions: positions, table: table, inverse: true)
            return [dx]
        case .gatedLinearUnit(let activation, let gate, let up):
            return GatedLinearUnitKernel.backward(activation, grad: g, gate: gate, up: up, needed: needed)
        case .attention(let geometry, let q, let k, let v, let out, let logSumExp):
            return AttentionKernel.backward(geometry, grad: g, q: q, k: k, v: v, out: out, logSumExp: logSumExp, needed: needed)
        case .selectiveLogSoftmax(let plan, let hidden, let weight, let targets, let saved, let expectation):
            return SelectiveLogSoftmaxKernel.backward(plan, grad: g, hidden: hidden, weight: weight, targets: targets,
                                                      saved: saved, expectation: expectation, needed: needed)
        case .roundToBFloat16:
            let upstream = g.contiguous()
            let dx = Tensor(uninitializedShape: upstream.shape)
            roundElementsToBFloat16(upstream.pointer, dx.pointer, count: dx.count)
            return [dx]
        case .checkpoint(let segment):
            return segment.inputGradients(g, needed: needed)
        case .scaledRows(let jacobian):
            return [g.contiguous().reshaped([jacobian.shape[0], 1]) * jacobian]
        }
    }

    private static func binaryGradients(_ kind: BinaryKind, _ g: Tensor, _ a: Tensor, _ b: Tensor, needed: [Bool]) -> [Tensor?] {
        let da: () -> Tensor, db: () -> Tensor
        switch kind {
        case .add, .subtract:
            preconditionFailure("sums and differences are recorded as .addition, which keeps no operands")
        case .multiply:
            (da, db) = ({ g * b }, { g * a })
        case .divide:
            (da, db) = ({ g / b }, { -g * a / (b * b) })
        case .maximum, .minimum:
            // Weight 1 for the chosen operand, ½ each at ties (PyTorch's convention).
            let wins = Tensor(uninitializedShape: g.shape)
            let prefersA: (Float, Float) -> Bool = kind == .maximum ? { $0 > $1 } : { $0 < $1 }
            BinaryKernel.map(a, b, wins) { x, y in x == y ? 0.5 : (prefersA(x, y) ? 1 : 0) }
            (da, db) = ({ g * wins }, { g * (1 - wins) })
        }
        return [needed[0] ? da().summed(toShape: a.shape) : nil, needed[1] ? db().summed(toShape: b.shape) : nil]
    }

    private static func matmulGradients(_ g: Tensor, _ savedA: SavedTensor?, _ savedB: SavedTensor?, shapes: [[Int]],
                                        needed: [Bool]) -> [Tensor?] {
        var da: Tensor? = nil, db: Tensor? = nil
        if needed[0] {
            guard let b = savedB?.tensor else { preconditionFailure("matmul: b was not saved, though a takes a gradient") }
            da = g.matmul(b.transposed()).summed(toShape: shapes[0])
        }
        if needed[1] {
            guard let a = savedA?.tensor else { preconditionFailure("matmul: a was not saved, though b takes a gradient") }
            if shapes[1].count == 2 && a.rank > 2 {
                // One [K, rows]·[rows, N] product instead of a batch of them summed afterwards.
                let k = a.shape[a.rank - 1], n = shapes[1][1]
                db = a.reshaped([-1, k]).transposed().matmul(g.reshaped([-1, n]))
            } else {
                db = a.transposed().matmul(g).summed(toShape: shapes[1])
            }
        }
        return [da, db]
    }
}
