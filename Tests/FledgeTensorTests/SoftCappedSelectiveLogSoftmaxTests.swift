import XCTest
@testable import FledgeTensor

/// The selective log-softmax with a soft cap (Gemma's final-logit soft-capping) gives what its
/// portable twin — the logits formed whole, `cap · tanh(z / cap)`, divided by the temperature, a
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

    func testTheCapBitesOnTheseInputs() {
        var generator = SeededGenerator(seed: 5)
        let hidden = Tensor.normal([rows, width], standardDeviation: 1, using: &generator)
        let weight = Tensor.normal([vocabulary, width], standardDeviation: 1, using: &generator)
        let largest = hidden.matmul(weight.transposed()).abs().toArray().max()!
        XCTAssertGreaterThan(largest, 2 * cap, "logits reach well past the cap")
    }
}
