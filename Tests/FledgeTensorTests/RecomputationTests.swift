import XCTest
@testable import FledgeTensor

/// The outputs of `rmsNorm` and `gatedLinearUnit` are not kept alive by the products that read them
/// (a frozen weight's product keeps nothing of its input; a trainable one keeps how to make the input
/// again): they are freed after the forward and made again in the backward, with the same gradients,
/// bit for bit, as when they stay alive and are read as they are.
final class RecomputationTests: XCTestCase {
    private struct Weights {
        let norm, frozen, gate, up, down: Tensor
    }

    /// A decoder MLP's shape, non-square and large enough that the kernels split their work into chunks:
    /// `[2, 300, 24]` in, intermediate 64.
    private func weights(_ generator: inout SeededGenerator) -> Weights {
        let weights = Weights(norm: Tensor.uniform([24], in: 0.5..<1.5, using: &generator),
                              frozen: Tensor.uniform([64, 24], in: -0.3..<0.3, using: &generator),
                              gate: Tensor.uniform([64, 24], in: -0.3..<0.3, using: &generator),
                              up: Tensor.uniform([64, 24], in: -0.3..<0.3, using: &generator),
                              down: Tensor.uniform([24, 64], in: -0.3..<0.3, using: &generator))
        for trainable in [weights.norm, weights.gate, weights.up, weights.down] { trainable.requiresGrad = true }
        return weights
    }

    /// `down(swiGLU(gate(n) + frozen(n), up(n)))` with `n = rmsNorm(x)`, weighted and summed; the
    /// norm output and the gated product are returned beside the loss.
    private func forward(_ x: Tensor, _ w: Weights, weighting: Tensor) -> (loss: Tensor, normOutput: Tensor, gated: Tensor) {
        let n = Tensor.rmsNorm(x, weight: w.norm, eps: 1e-5)
        let gate = n.matmul(w.gate.transposed()) + n.matmul(w.frozen.transposed())
        let gated = Tensor.swiGLU(gate: gate, up: n.matmul(w.up.transposed()))
        return ((gated.matmul(w.down.transposed()) * weighting).sum(), n, gated)
    }

    /// The gradients of x and the trainable weights; with `keepingOutputs` the norm output and the
    /// gated product stay alive through the backward (so they are read, not made again), and without
    /// it their memory must be freed once the forward is done.
    private func gradients(keepingOutputs: Bool) -> [[Float]] {
        var generator = SeededGenerator(seed: 11)
        let x = Tensor.uniform([2, 300, 24], in: -2..<2, using: &generator)
        x.requiresGrad = true
        let w = weights(&generator)
        let weighting = Tensor.uniform([2, 300, 24], in: -1..<1, using: &generator)
        var pass: (loss: Tensor, normOutput: Tensor, gated: Tensor)? = forward(x, w, weighting: weighting)
        let loss = pass!.loss
        weak let normMemory = pass!.normOutput.storage
        weak let gatedMemory = pass!.gated.storage
        let kept = keepingOutputs ? [pass!.normOutput, pass!.gated] : []
        pass = nil
        if !keepingOutputs {
            XCTAssertNil(normMemory, "the norm output is not kept for the backward")
            XCTAssertNil(gatedMemory, "the gated product is not kept for the backward")
        }
        loss.backward()
        withExtendedLifetime(kept) {}
        return [x.grad!.toArray(), w.norm.grad!.toArray(), w.gate.grad!.toArray(), w.up.grad!.toArray(), w.down.grad!.toArray()]
    }

    func testRecomputedOutputsGiveTheSameGradientsBitForBit() {
        let recomputed = gradients(keepingOutputs: false)
        let kept = gradients(keepingOutputs: true)
        for (name, (a, b)) in zip(["x", "norm", "gate", "up", "down"], zip(recomputed, kept)) {
            XCTAssertEqual(a, b, "\(name)'s gradient")
            XCTAssertTrue(a.contains { $0 != 0 }, "\(name)'s gradient is not all zero")
        }
    }

    func testOutputsOfUnrecordedOpsAreKeptAsTheyAre() {
        var generator = SeededGenerator(seed: 12)
        let x = Tensor.uniform([5, 24], in: -2..<2, using: &generator)
        let normWeight = Tensor.uniform([24], in: 0.5..<1.5, using: &generator)
        let projection = Tensor.uniform([7, 24], in: -0.3..<0.3, using: &generator)
        projection.requiresGrad = true
        // Nothing trainable reaches the norm, so it records no rule that keeps its input: the product
        // keeps the norm output itself.
        let n = Tensor.rmsNorm(x, weight: normWeight, eps: 1e-5)
        XCTAssertNil(n.recomputation)
        weak let normMemory = n.storage
        let loss = n.matmul(projection.transposed()).sum()
        _ = consume n
        XCTAssertNotNil(normMemory, "the product keeps the norm output")
        loss.backward()
        XCTAssertNotNil(projection.grad)
    }
}
