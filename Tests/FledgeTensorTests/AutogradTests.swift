import Foundation
import XCTest
@testable import FledgeTensor

/// The tape's contract: only trainable leaves get gradients, gradients accumulate, saved
/// tensors are released after use, and no-grad scopes record nothing.
final class AutogradTests: XCTestCase {
    func testFrozenTensorsGetNoGradientAndRecordNothing() {
        let frozen = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        let trainable = Tensor(shape: [3, 2], values: [1, 0, 0, 1, 1, 1])
        trainable.requiresGrad = true
        let out = frozen.matmul(trainable).sum()
        out.backward()
        XCTAssertNil(frozen.grad)
        XCTAssertEqual(trainable.grad?.toArray(), [5, 5, 7, 7, 9, 9])
        XCTAssertFalse((frozen * frozen).requiresGrad, "ops on frozen tensors build no graph")
    }

    func testGradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor(shape: [3], values: [1, 2, 3])
        x.requiresGrad = true
        (x * x).sum().backward()
        (x * 3).sum().backward()
        XCTAssertEqual(x.grad?.toArray(), [5, 7, 9])
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testATensorUsedTwiceReceivesBothContributions() {
        let x = Tensor(shape: [2], values: [2, -1])
        x.requiresGrad = true
        let y = x.exp()
        (y * x + y).sum().backward()  // d/dx (x·eˣ + eˣ) = (x + 2)·eˣ
        let expected = [2, -1].map { (Float($0) + 2) * Foundation.exp(Float($0)) }
        for (a, e) in zip(x.grad!.toArray(), expected) { XCTAssertEqual(a, e, accuracy: 1e-5) }
    }

    func testLeavesNeverShareGradientMemory() {
        // Addition hands the same upstream gradient to both inputs: each leaf must own its copy.
        let x = Tensor(shape: [3], values: [1, 2, 3]), y = Tensor(shape: [3], values: [4, 5, 6])
        x.requiresGrad = true
        y.requiresGrad = true
        (x + y).backward(gradient: Tensor(shape: [3], values: [1, 1, 1]))
        XCTAssertFalse(x.grad!.storage === y.grad!.storage)
        x.grad!.withUnsafeMutableElements { $0[0] = 42 }
        XCTAssertEqual(y.grad!.toArray(), [1, 1, 1])
    }

    func testNoGradScopeRecordsNothing() {
        let x = Tensor(shape: [2], values: [1, 2])
        x.requiresGrad = true
        let y = Tensor.withoutGrad { (x * x).exp() }
        XCTAssertFalse(y.requiresGrad)
        XCTAssertTrue((x * x).requiresGrad)
    }

    func testSavedTensorsAreFreedByBackward() {
        let x = Tensor(shape: [256, 256]) { $0.initialize(repeating: 0.5) }
        x.requiresGrad = true
        let loss = (x.exp() * x.sigmoid()).sum()
        let tensorBytes = 256 * 256 * 4
        let beforeBackward = MemoryStats.liveBytes
        loss.backward()
        // The saved exp and sigmoid outputs are released; the new gradient of x takes one tensor.
        let change = MemoryStats.liveBytes - beforeBackward
        XCTAssertLessThanOrEqual(change, tensorBytes - 2 * tensorBytes + 4096, "live bytes changed by \(change)")
    }

    func testSumsAndDifferencesKeepNoOperandAlive() {
        // A residual connection or a LoRA update adds two fresh tensors: once the sum exists, the
        // graph must hold neither of them (their gradients do not depend on their values).
        let x = Tensor(shape: [64, 48]) { $0.initialize(repeating: 0.25) }
        x.requiresGrad = true
        let bias = Tensor(shape: [48], values: (0..<48).map(Float.init))
        bias.requiresGrad = true
        let tensorBytes = 64 * 48 * 4
        let before = MemoryStats.liveBytes
        let result = (x * 2 + x * 3 + bias) - x.exp()
        // The two scaled copies, their sum, the broadcast sum and exp's output: only exp's output
        // (saved by exp's own rule) and the result stay alive.
        XCTAssertEqual(MemoryStats.liveBytes - before, 2 * tensorBytes)
        result.sum().backward()
        let dx = x.grad!.toArray(), dBias = bias.grad!.toArray()
        XCTAssertEqual(dx[0], 5 - Foundation.exp(0.25), accuracy: 1e-6)
        XCTAssertEqual(Set(dx).count, 1)
        XCTAssertEqual(dBias, Array(repeating: 64, count: 48))
    }

    func testViewsShareStorage() {
        let x = Tensor(shape: [2, 3, 4], values: (0..<24).map(Float.init))
        XCTAssertTrue(x.transposed().storage === x.storage)
        XCTAssertTrue(x.permuted([2, 0, 1]).storage === x.storage)
        XCTAssertTrue(x.slice(axis: 1, 1..<3).storage === x.storage)
        XCTAssertTrue(x.reshaped([6, 4]).storage === x.storage)
        XCTAssertTrue(x.slice(axis: 0, 0..<1).expanded(to: [5, 3, 4]).storage === x.storage)
        XCTAssertEqual(x.transposed().toArray()[0..<4], [0, 4, 8, 1])
        XCTAssertEqual(x.slice(axis: 2, 1..<2).toArray(), [1, 5, 9, 13, 17, 21])
    }

    func testBackwardTwiceThroughTheSameGraphFailsLoudly() {
        // The rule is released after use; a second backward through it is a programming error.
        // Here we only check that intermediate nodes give up their saved tensors.
        let x = Tensor(shape: [2], values: [1, 2])
        x.requiresGrad = true
        let y = x.exp()
        let loss = y.sum()
        loss.backward()
        XCTAssertNil(y.node?.rule, "saved tensors are released after backward")
    }
}
