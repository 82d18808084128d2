import XCTest
@testable import FledgeTensor

/// The selective log-softmax with a soft cap (Gemma's final-logit soft-capping) gives what
/// PyTorch gives (`make_op_fixtures.py`, in float64) and what its portable twin — the logits formed whole, `cap · tanh(z / cap)`, divided by the temperature, a
/// log-softmax, the targets gathered — gives, with gradients, on non-square shapes across several
/// row and vocabulary tiles, with and without a trainable projection and an entropy gradient.
final class SoftCappedSelectiveLogSoftmaxTests: XCTestCase {
    private let (rows, width, vocabulary, cap, temperature): (Int, Int, Int, Float, Float) = (7, 5, 13, 1.5, 0.7)

    /// log p(target), the entropy, and the hidden and weight gradients of Σ a·log p + Σ b·entropy.
    private func run(fused: Bool, trainableWeight: Bool, chunkElements: Int) -> [Tensor] {
        var generator = SeededGenerator(seed: 5)
        let hidden = Tensor.normal([rows, width], standardDeviation: 1, using: &generator)
        let weight = Tensor.normal([vocabulary, width], standardDeviation: 1, using: &generator)
        let a = Tensor.normal([rows], standardDeviation: 1, using: &generator)
        let b = Tensor.normal([rows], standardDeviation: 1, using: &generator)
        let targets = (0..<rows).map { ($0 * 5 + 3) % vocabulary }
        hidden.requiresGrad = true
        weight.requiresGrad = trainableWeight
        let logProbs: Tensor, entropy: Tensor
        if fused {
            let result = Tensor.selectiveLogSoftmax(hidden: hidden, weight: weight, targets: targets, temperature: temperature,
                                                    withEntropy: true, chunkElements: chunkElements, softCap: cap)
            (logProbs, entropy) = (result.logProbs, result.entropy!)
        } else {
            let logits = hidden.matmul(weight.transposed())
            let normalised = ((logits / cap).tanh() * cap / temperature).logSoftmax(axis: 1)
            logProbs = normalised.gather(axis: 1, indices: targets, indexShape: [rows, 1]).reshaped([rows])
            entropy = -(normalised.exp() * normalised).sum(axis: 1)
        }
        ((logProbs * a).sum() + (entropy * b).sum()).backward()
        return [logProbs, entropy, hidden.grad!] + (trainableWeight ? [weight.grad!] : [])
    }

    func testSoftCappedLogProbsEntropyAndGradientsMatchThePortableTwin() {
        for trainableWeight in [false, true] {
            let twin = run(fused: false, trainableWeight: trainableWeight, chunkElements: 1 << 20)
            for chunk in [6, 40, 1 << 20] {
                let fused = run(fused: true, trainableWeight: trainableWeight, chunkElements: chunk)
                for (index, (got, expected)) in zip(fused, twin).enumerated() {
                    assertClose(got, DTensor(expected), tolerance: 1e-5,
                                "output \(index), chunk \(chunk), trainable weight \(trainableWeight)")
                }
            }
        }
    }

    /// Against PyTorch, within 1e-4 relative (the tolerance of every fused op): log p, the entropy
    /// and the hidden and weight gradients of 7 rows over a vocabulary of 13 with cap 1.5 and
    /// temperature 0.7, in tiles of one row × 6 tokens, several rows, and one tile.
    func testSoftCappedLogProbsEntropyAndGradientsMatchPyTorch() throws {
        let fixture = OpFixture(file: try Fixtures.gemmaOps.get(), name: "soft_capped_selective_log_softmax")
        let (targets, cap, temperature) = (try fixture.integers("targets"), try fixture.scalar("cap"), try fixture.scalar("temperature"))
        for chunk in [6, 40, 1 << 20] {
            try fixture.assertMatchesPyTorch(tolerance: Tolerance.reduction, "chunk \(chunk)", expected: { f in
                (Tensor.stack([try f.tensor("out"), try f.tensor("entropy")]),
                 Tensor.stack([try f.tensor("gout"), try f.tensor("gout_entropy")]))
            }) { x in
                let result = Tensor.selectiveLogSoftmax(hidden: x[0], weight: x[1], targets: targets, temperature: temperature,
                                                        withEntropy: true, chunkElements: chunk, softCap: cap)
                return Tensor.stack([result.logProbs, result.entropy!])
            }
        }
    }

    func testTheCapBitesOnTheseInputs() {
        var generator = SeededGenerator(seed: 5)
        let hidden = Tensor.normal([rows, width], standardDeviation: 1, using: &generator)
        let weight = Tensor.normal([vocabulary, width], standardDeviation: 1, using: &generator)
        let largest = hidden.matmul(weight.transposed()).abs().toArray().max()!
        XCTAssertGreaterThan(largest, 2 * cap, "logits reach well past the cap")
    }
}
