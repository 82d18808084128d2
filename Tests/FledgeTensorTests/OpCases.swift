import Foundation
@testable import FledgeTensor

/// An op under test: the engine's version and a float64 reference, both fed the inputs of
/// the PyTorch fixture case of the same name.
struct OpCase: @unchecked Sendable {
    let name: String
    /// Max relative error allowed (see `ErrorReport`).
    let tolerance: Double
    let engine: ([Tensor], OpFixture) throws -> Tensor
    let reference: ([DTensor], OpFixture) throws -> DTensor
    /// The fixture's output and upstream gradient; ops with two outputs stack them.
    var expected: (OpFixture) throws -> (out: Tensor, gout: Tensor) = { (try $0.tensor("out"), try $0.tensor("gout")) }
}

/// float32 tolerances (relative): elementwise ops 1e-5, reductions, matmul and fused ops 1e-4.
enum Tolerance {
    static let elementwise = 1e-5
    static let reduction = 1e-4
}

extension OpCase {
    static func elementwise(_ name: String, _ engine: @escaping ([Tensor]) -> Tensor, _ reference: @escaping ([DTensor]) -> DTensor) -> OpCase {
        OpCase(name: name, tolerance: Tolerance.elementwise, engine: { x, _ in engine(x) }, reference: { x, _ in reference(x) })
    }

    static func reduction(_ name: String, _ engine: @escaping ([Tensor]) -> Tensor, _ reference: @escaping ([DTensor]) -> DTensor) -> OpCase {
        OpCase(name: name, tolerance: Tolerance.reduction, engine: { x, _ in engine(x) }, reference: { x, _ in reference(x) })
    }

    static func unary(_ name: String, _ engine: @escaping (Tensor) -> Tensor, _ f: @escaping (Double) -> Double) -> OpCase {
        elementwise(name, { engine($0[0]) }, { $0[0].map(f) })
    }

    static let all: [OpCase] = elementwiseCases + reductionCases + shapeCases + fusedCases

    static let elementwiseCases: [OpCase] = [
        elementwise("add", { $0[0] + $0[1] }, { $0[0] + $0[1] }),
        elementwise("sub", { $0[0] - $0[1] }, { $0[0] - $0[1] }),
        elementwise("mul", { $0[0] * $0[1] }, { $0[0] * $0[1] }),
        elementwise("div", { $0[0] / $0[1] }, { $0[0] / $0[1] }),
        elementwise("maximum", { Tensor.maximum($0[0], $0[1]) }, { DTensor.zip($0[0], $0[1], Swift.max) }),
        elementwise("minimum", { Tensor.minimum($0[0], $0[1]) }, { DTensor.zip($0[0], $0[1], Swift.min) }),
        unary("exp", { $0.exp() }, Foundation.exp),
        unary("neg", { -$0 }, { -$0 }),
        unary("abs", { $0.abs() }, Swift.abs),
        unary("sigmoid", { $0.sigmoid() }, sigmoid),
        unary("logsigmoid", { $0.logSigmoid() }, { Foundation.log(sigmoid($0)) }),
        unary("silu", { $0.silu() }, { $0 * sigmoid($0) }),
        unary("tanh", { $0.tanh() }, Foundation.tanh),
        unary("relu", { $0.relu() }, { Swift.max($0, 0) }),
        unary("square", { $0.square() }, { $0 * $0 }),
        unary("log", { $0.log() }, Foundation.log),
        unary("sqrt", { $0.sqrt() }, { $0.squareRoot() }),
        unary("rsqrt", { $0.rsqrt() }, { 1 / $0.squareRoot() }),
        unary("clamp", { $0.clamp(min: -0.5, max: 0.7) }, { Swift.min(Swift.max($0, -0.5), 0.7) }),
        unary("pow", { $0.pow(2.5) }, { Foundation.pow($0, 2.5) }),
        unary("scale", { $0 * 1.75 }, { $0 * 1.75 }),
        unary("add_scalar", { $0 + 0.25 }, { $0 + 0.25 }),
        OpCase(
            name: "where", tolerance: Tolerance.elementwise,
            engine: { x, f in Tensor.select(try f.tensor("cond"), x[0], x[1]) },
            reference: { x, f in
                let cond = DTensor(try f.tensor("cond"))
                let shape = Shape.broadcast(Shape.broadcast(cond.shape, x[0].shape), x[1].shape)
                let c = cond.expanded(to: shape), a = x[0].expanded(to: shape), b = x[1].expanded(to: shape)
                return DTensor(shape: shape, values: (0..<c.count).map { c.values[$0] != 0 ? a.values[$0] : b.values[$0] })
            }),
    ]

    static let reductionCases: [OpCase] = [
        reduction("sum_axis1", { $0[0].sum(axis: 1) }, { $0[0].reduce(axis: 1) { $0.reduce(0, +) } }),
        reduction("sum_all", { $0[0].sum() }, { DTensor(shape: [], values: [$0[0].values.reduce(0, +)]) }),
        reduction("sum_keepdim", { $0[0].sum(axis: 2, keepDims: true) }, { $0[0].reduce(axis: 2, keepDims: true) { $0.reduce(0, +) } }),
        reduction("mean_last", { $0[0].mean(axis: -1) }, { $0[0].reduce(axis: 2) { $0.reduce(0, +) / Double($0.count) } }),
        reduction("max_axis0", { $0[0].max(axis: 0) }, { $0[0].reduce(axis: 0) { $0.max()! } }),
        reduction("logsumexp_axis1", { $0[0].logSumExp(axis: 1) }, { $0[0].reduce(axis: 1, logSumExp) }),
        reduction("softmax_last", { $0[0].softmax(axis: -1) }, { $0[0].alongAxis(1) { l in l.map { Foundation.exp($0 - logSumExp(l)) } } }),
        reduction("log_softmax_axis1", { $0[0].logSoftmax(axis: 1) }, { $0[0].alongAxis(1) { l in l.map { $0 - logSumExp(l) } } }),
        reduction("matmul_nn", { $0[0].matmul($0[1]) }, { DTensor.matmul($0[0], $0[1]) }),
        reduction("matmul_batched", { $0[0].matmul($0[1]) }, { DTensor.matmul($0[0], $0[1]) }),
        reduction("matmul_nt", { $0[0].matmul($0[1].transposed()) }, { DTensor.matmul($0[0], $0[1].transposedLastTwo()) }),
        reduction("matmul_tn", { $0[0].transposed().matmul($0[1]) }, { DTensor.matmul($0[0].transposedLastTwo(), $0[1]) }),
        reduction("matmul_broadcast", { $0[0].matmul($0[1]) }, { DTensor.matmul($0[0], $0[1]) }),
    ]

    static let shapeCases: [OpCase] = [
        elementwise("permute", { $0[0].permuted([2, 0, 1]) }, { $0[0].permuted([2, 0, 1]) }),
        elementwise("reshape", { $0[0].reshaped([6, 4]) }, { $0[0].reshaped([6, 4]) }),
        elementwise("transpose", { $0[0].transposed(0, 2) }, { $0[0].permuted([2, 1, 0]) }),
        elementwise("slice", { $0[0].slice(axis: 0, 1..<4) }, { $0[0].slice(axis: 0, 1..<4) }),
        elementwise("slice_axis1", { $0[0].slice(axis: 1, 2..<5) }, { $0[0].slice(axis: 1, 2..<5) }),
        elementwise("concat", { Tensor.concat([$0[0], $0[1]], axis: 1) }, { DTensor.concat([$0[0], $0[1]], axis: 1) }),
        elementwise("stack", { Tensor.stack([$0[0], $0[1]], axis: 0) },
                    { DTensor.concat([$0[0].reshaped([1, 3, 4]), $0[1].reshaped([1, 3, 4])], axis: 0) }),
        elementwise("expand", { $0[0].expanded(to: [2, 3, 4]) }, { $0[0].expanded(to: [2, 3, 4]) }),
        OpCase(
            name: "gather", tolerance: Tolerance.elementwise,
            engine: { x, f in x[0].gather(axis: 1, indices: try f.integers("index"), indexShape: [3, 2]) },
            reference: { x, f in
                let index = try f.integers("index")
                return DTensor(shape: [3, 2], values: (0..<6).map { x[0][[$0 / 2, index[$0]]] })
            }),
        OpCase(
            name: "embedding", tolerance: Tolerance.elementwise,
            engine: { x, f in x[0].indexSelect(try f.integers("ids"), indexShape: [2, 3]) },
            reference: { x, f in
                let ids = try f.integers("ids"), width = x[0].shape[1]
                return DTensor(shape: [2, 3, width], values: ids.flatMap { id in (0..<width).map { x[0][[id, $0]] } })
            }),
    ]

    static let fusedCases: [OpCase] = [
        OpCase(
            name: "rms_norm", tolerance: Tolerance.reduction,
            engine: { x, _ in Tensor.rmsNorm(x[0], weight: x[1], eps: 1e-6) },
            reference: { x, _ in ReferenceFused.rmsNorm(x[0], x[1], eps: 1e-6) }),
        OpCase(
            name: "rope", tolerance: Tolerance.reduction,
            engine: { x, f in Tensor.rotaryEmbedding(x[0], positions: try f.integers("positions"), table: RotaryTable(headDim: 8, theta: 10_000)) },
            reference: { x, f in ReferenceFused.rope(x[0], positions: try f.integers("positions"), theta: 10_000) }),
        OpCase(
            name: "swiglu", tolerance: Tolerance.reduction,
            engine: { x, _ in Tensor.swiGLU(gate: x[0], up: x[1]) },
            reference: { x, _ in ReferenceFused.swiGLU(x[0], x[1]) }),
        attention("attention"),
        attention("attention_offset"),
        OpCase(
            name: "selective_log_softmax", tolerance: Tolerance.reduction,
            engine: { x, f in
                let result = Tensor.selectiveLogSoftmax(
                    hidden: x[0], weight: x[1], targets: try f.integers("targets"), temperature: 0.7,
                    withEntropy: true, chunkElements: 8)  // blocks of 1 row × 8 of the 11 tokens: exercises both tilings
                return Tensor.stack([result.logProbs, result.entropy!])
            },
            reference: { x, f in ReferenceFused.selectiveLogSoftmax(x[0], x[1], targets: try f.integers("targets"), temperature: 0.7) },
            expected: { f in
                (Tensor.stack([try f.tensor("out"), try f.tensor("entropy")]),
                 Tensor.stack([try f.tensor("gout"), try f.tensor("gout_entropy")]))
            }),
    ]

    static func attention(_ name: String) -> OpCase {
        OpCase(
            name: name, tolerance: Tolerance.reduction,
            engine: { x, f in
                let mask = AttentionMask(causal: true, keyPadding: try f.tensor("key_mask").toArray())
                return Tensor.scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask)
            },
            reference: { x, f in
                ReferenceFused.attention(x[0], x[1], x[2], keyMask: try f.tensor("key_mask").toArray().map(Double.init))
            })
    }
}
