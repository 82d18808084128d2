import XCTest
@testable import FledgeTensor

/// bfloat16 autocast (`Autocast`, `bf16: true`): a product rounds its operands and its float32
/// result to bfloat16, and the gradients it sends back are bfloat16 products of bfloat16 values,
/// as PyTorch's CPU autocast computes `matmul`/`linear` and their backward; a linear layer's bias
/// joins the float32 sum before its one rounding; outside the scope nothing changes.
final class AutocastTests: XCTestCase {
    private func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        return Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &generator) })
    }

    private func rounded(_ tensor: Tensor) -> Tensor { Tensor(shape: tensor.shape, values: tensor.toArray().map(\.roundedToBFloat16)) }

    func testProductAndGradientsAreBFloat16() {
        let a = random([3, 7, 33], seed: 1), b = random([33, 19], seed: 2), upstream = random([3, 7, 19], seed: 3)
        a.requiresGrad = true
        b.requiresGrad = true
        let out = Autocast.$precision.withValue(.bfloat16) { a.matmul(b) }
        (out * upstream).sum().backward()

        // Forward: round(bf16(a) · bf16(b)) with the float32 product of the rounded operands.
        let expected = rounded(rounded(a).matmul(rounded(b)))
        XCTAssertEqual(out.toArray(), expected.toArray())
        XCTAssert(out.toArray().allSatisfy { $0.bitPattern & 0xFFFF == 0 })
        XCTAssertNotEqual(out.toArray(), a.detached().matmul(b.detached()).toArray(), "the products are rounded")

        // Backward: the gradient of the bfloat16 output is bfloat16; each operand's gradient is the
        // bfloat16 rounding of the float32 product of bfloat16 values.
        let g = rounded(upstream)
        XCTAssertEqual(a.grad!.toArray(), rounded(g.matmul(rounded(b).transposed())).toArray())
        XCTAssertEqual(b.grad!.toArray(), rounded(rounded(a).reshaped([21, 33]).transposed().matmul(g.reshaped([21, 19]))).toArray())
    }

    func testBiasJoinsTheSumBeforeTheOneRounding() {
        let x = random([5, 9], seed: 4), weight = random([6, 9], seed: 5), bias = random([6], seed: 6)
        let out = Autocast.$precision.withValue(.bfloat16) { x.matmul(weight.transposed(), adding: bias) }
        let sum = rounded(x).matmul(rounded(weight).transposed()) + rounded(bias)
        XCTAssertEqual(out.toArray(), rounded(sum).toArray())
    }

    func testFloat32OutsideTheScope() {
        let a = random([4, 6], seed: 7), b = random([6, 5], seed: 8)
        let inside = Autocast.$precision.withValue(.bfloat16) { Autocast.$precision.withValue(.float32) { a.matmul(b) } }
        XCTAssertEqual(inside.toArray(), a.matmul(b).toArray())
        XCTAssertEqual(a.matmul(b, adding: nil).toArray(), a.matmul(b).toArray())
        XCTAssertFalse(Autocast.isBFloat16)
    }

    /// The selective log-softmax under autocast equals a log-softmax of bfloat16 logits (from
    /// bfloat16 operands) in float32, as accelerate hands autocast's bfloat16 logits on as float32.
    func testSelectiveLogSoftmaxReadsBFloat16Logits() {
        let hidden = random([5, 12], seed: 9), weight = random([37, 12], seed: 10)
        let targets = [0, 36, 5, 17, 17]
        let got = Autocast.$precision.withValue(.bfloat16) {
            Tensor.selectiveLogSoftmax(hidden: hidden, weight: weight, targets: targets, chunkElements: 64).logProbs
        }
        let logits = rounded(rounded(hidden).matmul(rounded(weight).transposed())).toArray()
        for (row, target) in targets.enumerated() {
            let z = logits[row * 37..<(row + 1) * 37].map(Double.init)
            let top = z.max()!
            let expected = z[target] - top - Foundation.log(z.map { Foundation.exp($0 - top) }.reduce(0, +))
            XCTAssertEqual(Double(got.toArray()[row]), expected, accuracy: 2e-6, "row \(row)")
        }
    }
}
