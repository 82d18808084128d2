import XCTest
@testable import FledgeTensor

/// `Tensor.checkpointed`: the same values and gradients as the plain computation, a node even
/// when only the body's parameters are trainable, activations not kept, training-only behaviour
/// (dropout) on in both passes, and nothing recorded outside grad mode.
final class CheckpointingTests: XCTestCase {
    private func block(_ x: Tensor, _ w1: Tensor, _ w2: Tensor) -> Tensor {
        let h = x.matmul(w1.transposed())
        return Tensor.swiGLU(gate: h, up: h * 0.5 + 1).matmul(w2.transposed()) + x
    }

    private func weights(_ generator: inout SeededGenerator) -> (Tensor, Tensor) {
        let w1 = Tensor.uniform([7, 5], in: -0.5..<0.5, using: &generator)
        let w2 = Tensor.uniform([5, 7], in: -0.5..<0.5, using: &generator)
        w1.requiresGrad = true
        w2.requiresGrad = true
        return (w1, w2)
    }

    /// Loss and gradients of w1, w2 (and x when it is trainable), plain or checkpointed.
    private func run(checkpointed: Bool, inputTrainable: Bool) -> [[Float]] {
        var generator = SeededGenerator(seed: 3)
        let x = Tensor.uniform([2, 3, 5], in: -1..<1, using: &generator)
        x.requiresGrad = inputTrainable
        let (w1, w2) = weights(&generator)
        let weighting = Tensor.uniform([2, 3, 5], in: -1..<1, using: &generator)
        let y = checkpointed
            ? Tensor.checkpointed(inputs: [x], parameters: [w1, w2]) { self.block($0[0], w1, w2) }
            : block(x, w1, w2)
        let loss = (block(y, w1, w2) * weighting).sum()
        loss.backward()
        return [[loss.item()], w1.grad!.toArray(), w2.grad!.toArray()] + (inputTrainable ? [x.grad!.toArray()] : [])
    }

    func testGradientsEqualThePlainComputation() {
        for inputTrainable in [false, true] {
            let plain = run(checkpointed: false, inputTrainable: inputTrainable)
            let checkpointed = run(checkpointed: true, inputTrainable: inputTrainable)
            XCTAssertEqual(plain.count, checkpointed.count)
            for (a, b) in zip(plain, checkpointed) { XCTAssertEqual(a, b, "input trainable: \(inputTrainable)") }
        }
    }

    func testNothingIsRecordedWithoutGradOrTrainableTensors() {
        let x = Tensor.ones([2, 5])
        var generator = SeededGenerator(seed: 1)
        let (w1, w2) = weights(&generator)
        let noGrad = Tensor.withoutGrad { Tensor.checkpointed(inputs: [x], parameters: [w1, w2]) { self.block($0[0], w1, w2) } }
        XCTAssertFalse(noGrad.requiresGrad)
        let frozen = Tensor.checkpointed(inputs: [x], parameters: []) { $0[0] * 2 }
        XCTAssertFalse(frozen.requiresGrad)
    }

    func testActivationsAreNotKeptAndDropoutRunsInBothPasses() {
        let x = Tensor.full([64, 256], 0.01)
        let masks = SeededGenerator(seed: 9)
        func segment(_ input: Tensor, _ w: Tensor) -> Tensor {
            var replay = masks
            return input.dropout(probability: 0.5, using: &replay).matmul(w).sigmoid().sigmoid()
        }
        let plainWeight = Tensor.full([256, 256], 0.02), weight = Tensor.full([256, 256], 0.02)
        plainWeight.requiresGrad = true
        weight.requiresGrad = true
        segment(x, plainWeight).sum().backward()

        var trainingFlags: [Bool] = []
        let before = MemoryStats.liveBytes
        let y = Tensor.checkpointed(inputs: [x], parameters: [weight]) { inputs in
            trainingFlags.append(GradMode.isTraining)
            return segment(inputs[0], weight)
        }
        // Only the output is new: the dropout mask, the product and the inner sigmoid are gone.
        let kept = MemoryStats.liveBytes - before
        XCTAssertLessThanOrEqual(kept, 64 * 256 * 4 + 4096, "a checkpointed segment kept \(kept) bytes")
        y.sum().backward()
        XCTAssertEqual(trainingFlags, [true, true], "dropout must be on in the first pass and in the recomputation")
        XCTAssertEqual(weight.grad!.toArray(), plainWeight.grad!.toArray())
    }
}
