import Foundation
import FledgeTensor

/// A one-layer decoder (embedding, RMSNorm, rotary multi-head attention, SwiGLU MLP,
/// tied to an output head through the selective log-softmax) trained with Adam to repeat
/// the first half of a digit sequence. Chance accuracy on the second half is 10%; only
/// attention can do better, so rising accuracy shows the forward and backward working.
struct CopyTaskExample {
    private let vocab = 11, width = 32, heads = 2, headDim = 16, hidden = 64, half = 6, batch = 16
    private let separator = 10
    private var generator: SeededGenerator
    private var parameters: [String: Tensor] = [:]
    private var moments: [String: (Tensor, Tensor)] = [:]

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
        let shapes: [(String, [Int], Float)] = [
            ("embed", [vocab, width], 1), ("norm", [width], 0), ("q", [heads * headDim, width], 1),
            ("k", [heads * headDim, width], 1), ("v", [heads * headDim, width], 1), ("o", [width, heads * headDim], 1),
            ("mlpNorm", [width], 0), ("gate", [hidden, width], 1), ("up", [hidden, width], 1), ("down", [width, hidden], 1),
            ("finalNorm", [width], 0), ("head", [vocab, width], 1),
        ]
        for (name, shape, scale) in shapes {
            let fanIn = Float(shape.last!)
            let tensor = scale == 0
                ? Tensor.ones(shape)
                : Tensor.uniform(shape, in: -1 / fanIn.squareRoot()..<1 / fanIn.squareRoot(), using: &generator)
            tensor.requiresGrad = true
            parameters[name] = tensor
            moments[name] = (Tensor.zeros(shape), Tensor.zeros(shape))
        }
    }

    var parameterCount: Int { parameters.values.reduce(0) { $0 + $1.count } }

    /// Sequences `a₁…aₙ SEP a₁…aₙ`: inputs, next-token targets, and which targets are copies.
    private mutating func batchOfSequences() -> (ids: [Int], targets: [Int], isCopy: [Float]) {
        var ids: [Int] = [], targets: [Int] = [], isCopy: [Float] = []
        for _ in 0..<batch {
            let digits = (0..<half).map { _ in Int(generator.next() % 10) }
            let sequence = digits + [separator] + digits
            ids += sequence.dropLast()
            targets += sequence.dropFirst()
            isCopy += (0..<sequence.count - 1).map { $0 >= half ? 1 : 0 }
        }
        return (ids, targets, isCopy)
    }

    private func forward(ids: [Int], targets: [Int]) -> Tensor {
        let p = parameters, seq = ids.count / batch
        let table = RotaryTable(headDim: headDim, theta: 10_000)
        let positions = (0..<ids.count).map { $0 % seq }
        let linear = { (x: Tensor, name: String) in x.matmul(p[name]!.transposed()) }
        var x = p["embed"]!.indexSelect(ids, indexShape: [batch, seq])
        let h = Tensor.rmsNorm(x, weight: p["norm"]!, eps: 1e-6)
        let q = Tensor.rotaryEmbedding(linear(h, "q").reshaped([batch, seq, heads, headDim]), positions: positions, table: table)
        let k = Tensor.rotaryEmbedding(linear(h, "k").reshaped([batch, seq, heads, headDim]), positions: positions, table: table)
        let v = linear(h, "v").reshaped([batch, seq, heads, headDim])
        x = x + linear(Tensor.scaledDotProductAttention(query: q, key: k, value: v).reshaped([batch, seq, heads * headDim]), "o")
        let m = Tensor.rmsNorm(x, weight: p["mlpNorm"]!, eps: 1e-6)
        x = x + linear(Tensor.swiGLU(gate: linear(m, "gate"), up: linear(m, "up")), "down")
        let final = Tensor.rmsNorm(x, weight: p["finalNorm"]!, eps: 1e-6).reshaped([batch * seq, width])
        return Tensor.selectiveLogSoftmax(hidden: final, weight: p["head"]!, targets: targets).logProbs
    }

    /// One Adam step on a fresh batch; returns the loss and the copy accuracy (log p > log ½).
    mutating func trainStep(step: Int, learningRate: Float = 3e-3) -> (loss: Float, accuracy: Float) {
        let (ids, targets, isCopy) = batchOfSequences()
        let logProbs = forward(ids: ids, targets: targets)
        let loss = -logProbs.mean()
        loss.backward()
        let (beta1, beta2, eps): (Float, Float, Float) = (0.9, 0.999, 1e-8)
        let correction1 = 1 - Foundation.pow(beta1, Float(step)), correction2 = 1 - Foundation.pow(beta2, Float(step))
        for (name, parameter) in parameters {
            guard let grad = parameter.grad?.toArray() else { continue }
            let (m, v) = moments[name]!
            m.withUnsafeMutableElements { m in
                v.withUnsafeMutableElements { v in
                    parameter.withUnsafeMutableElements { w in
                        for i in w.indices {
                            m[i] = beta1 * m[i] + (1 - beta1) * grad[i]
                            v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i]
                            w[i] -= learningRate * (m[i] / correction1) / ((v[i] / correction2).squareRoot() + eps)
                        }
                    }
                }
            }
            parameter.zeroGrad()
        }
        return (loss.item(), Self.copyAccuracy(logProbs, isCopy))
    }

    /// Copy accuracy on fresh sequences, without recording gradients.
    mutating func evaluate(batches: Int = 8) -> Float {
        var total: Float = 0
        for _ in 0..<batches {
            let (ids, targets, isCopy) = batchOfSequences()
            total += Tensor.withoutGrad { Self.copyAccuracy(forward(ids: ids, targets: targets), isCopy) }
        }
        return total / Float(batches)
    }

    private static func copyAccuracy(_ logProbs: Tensor, _ isCopy: [Float]) -> Float {
        let values = logProbs.toArray()
        let hits = zip(values, isCopy).filter { $0.1 == 1 && $0.0 > Foundation.log(0.5) }.count
        return Float(hits) / isCopy.reduce(0, +)
    }
}
