import XCTest
@testable import FledgeTensor

/// The vector-math kernels of every set the CPU runs (AVX2, AVX-512) agree with their portable
/// Swift specifications on odd sizes (tails shorter than a vector included) and across the exp
/// range, underflow and extreme gates included.
final class VectorMathTests: XCTestCase {
    private let sizes = [1, 7, 33, 1000]

    func testAVX2KernelsMatchThePortableOnes() throws { try checkEveryKernel(.avx2) }
    func testAVX512KernelsMatchThePortableOnes() throws { try checkEveryKernel(.avx512) }
    func testAVX512VNNIKernelsMatchThePortableOnes() throws { try checkEveryKernel(.avx512VNNI) }

    private func checkEveryKernel(_ kernels: KernelSet) throws {
        try skipUnlessAvailable(kernels)
        checkAgainstThePortableKernels(kernels)
        checkSwiGLUOnExtremeGates(kernels)
        checkExpAtTheEdgesOfItsRange(kernels)
    }

    private func values(_ n: Int, in range: Range<Float>, _ generator: inout SeededGenerator) -> [Float] {
        Tensor.uniform([n], in: range, using: &generator).toArray()
    }

    /// Max relative difference, measured against max(|expected|, floor).
    private func worst(_ a: [Float], _ b: [Float], floor: Float = 1e-30) -> Float {
        zip(a, b).reduce(0) { Swift.max($0, Swift.abs($1.0 - $1.1) / Swift.max(Swift.abs($1.1), floor)) }
    }

    private func checkAgainstThePortableKernels(_ kernels: KernelSet) {
        var generator = SeededGenerator(seed: 5)
        for n in sizes {
            // Over the whole normal range; then an affine argument (where the C kernel's fused
            // multiply-add rounds the argument once and Swift's twice).
            let x = values(n, in: -87..<88.7, &generator)
            var fast = [Float](repeating: 0, count: n), plain = fast
            VectorMath.expAffine(x, &fast, n, kernels: kernels)
            PortableVectorMath.expAffine(x, &plain, n, scale: 1, shift: 0)
            XCTAssertLessThan(worst(fast, plain), 1e-6, "\(kernels) exp, n = \(n)")
            let small = values(n, in: -10..<10, &generator)
            VectorMath.expAffine(small, &fast, n, scale: 0.9, shift: 0.5, kernels: kernels)
            PortableVectorMath.expAffine(small, &plain, n, scale: 0.9, shift: 0.5)
            XCTAssertLessThan(worst(fast, plain), Float(Tolerance.elementwise), "\(kernels) exp(0.9 x + 0.5), n = \(n)")

            let gate = values(n, in: -8..<8, &generator), up = values(n, in: -2..<2, &generator), grad = values(n, in: -1..<1, &generator)
            VectorMath.gatedLinearUnitForward(.silu, gate, up, &fast, n, kernels: kernels)
            PortableVectorMath.swiGLUForward(gate, up, &plain, n)
            XCTAssertLessThan(worst(fast, plain, floor: 1e-3), Float(Tolerance.elementwise), "\(kernels) swiGLU forward, n = \(n)")
            var fastUp = fast, plainUp = plain
            VectorMath.gatedLinearUnitBackward(.silu, gate, up, grad, &fast, &fastUp, n, kernels: kernels)
            PortableVectorMath.swiGLUBackward(gate, up, grad, &plain, &plainUp, n)
            XCTAssertLessThan(worst(fast, plain, floor: 1e-3), Float(Tolerance.elementwise), "\(kernels) swiGLU d gate, n = \(n)")
            XCTAssertLessThan(worst(fastUp, plainUp, floor: 1e-3), Float(Tolerance.elementwise), "\(kernels) swiGLU d up, n = \(n)")

            let logits = values(n, in: -20..<20, &generator)
            var stats = VectorMath.SoftmaxStats(), plainStats = VectorMath.SoftmaxStats()
            for half in [logits.prefix(n / 2), logits.suffix(n - n / 2)] {
                let part = Array(half)
                stats.add(part, part.count, scale: 1.3, kernels: kernels)
                plainStats.addPortably(part, part.count, scale: 1.3)
            }
            XCTAssertEqual(stats.logSumExp, plainStats.logSumExp, accuracy: 1e-5 * Swift.max(1, Swift.abs(plainStats.logSumExp)), "\(kernels) lse, n = \(n)")
            XCTAssertEqual(stats.entropy, plainStats.entropy, accuracy: 1e-4, "\(kernels) entropy, n = \(n)")

            var fastRow = logits, plainRow = logits
            if n > 1 { (fastRow[0], plainRow[0]) = (-.infinity, -.infinity) }  // a masked entry becomes 0
            let fastLSE = VectorMath.softmaxRow(&fastRow, n, scale: 0.8, kernels: kernels)
            let plainLSE = PortableVectorMath.softmaxRow(&plainRow, n, scale: 0.8)
            XCTAssertEqual(fastLSE, plainLSE, accuracy: 1e-5 * Swift.max(1, Swift.abs(plainLSE)), "\(kernels) softmax row lse, n = \(n)")
            XCTAssertLessThan(worst(fastRow, plainRow, floor: 1e-6), Float(Tolerance.elementwise), "\(kernels) softmax row, n = \(n)")

            var fastGrad = logits, plainGrad = logits
            VectorMath.selectiveSoftmaxGrad(&fastGrad, n, scale: 1.3, logSumExp: stats.logSumExp, entropy: stats.entropy,
                                            gradLogProb: 0.7, gradEntropy: -0.4, kernels: kernels)
            PortableVectorMath.selectiveSoftmaxGrad(&plainGrad, n, scale: 1.3, logSumExp: stats.logSumExp, entropy: stats.entropy,
                                                    gradLogProb: 0.7, gradEntropy: -0.4)
            XCTAssertLessThan(worst(fastGrad, plainGrad, floor: 1e-6), 1e-5, "\(kernels) selective softmax grad, n = \(n)")
        }
    }

    private func checkSwiGLUOnExtremeGates(_ kernels: KernelSet) {
        let gate: [Float] = [-1000, -89, -88, -50, -1e-3, 0, 1e-3, 50, 88, 89, 1000]
        let up = [Float](repeating: 1.5, count: gate.count), grad = [Float](repeating: 0.5, count: gate.count)
        var fast = [Float](repeating: .nan, count: gate.count), plain = fast
        VectorMath.gatedLinearUnitForward(.silu, gate, up, &fast, gate.count, kernels: kernels)
        PortableVectorMath.swiGLUForward(gate, up, &plain, gate.count)
        var fastGate = fast, fastUp = fast, plainGate = plain, plainUp = plain
        VectorMath.gatedLinearUnitBackward(.silu, gate, up, grad, &fastGate, &fastUp, gate.count, kernels: kernels)
        PortableVectorMath.swiGLUBackward(gate, up, grad, &plainGate, &plainUp, gate.count)
        for (label, a, b) in [("forward", fast, plain), ("d gate", fastGate, plainGate), ("d up", fastUp, plainUp)] {
            for (index, (x, y)) in zip(a, b).enumerated() {
                XCTAssertFalse(x.isNaN, "\(kernels) \(label) at gate \(gate[index]) is NaN")
                XCTAssertEqual(x, y, accuracy: Swift.max(1e-6, Swift.abs(y) * 1e-5), "\(kernels) \(label) at gate \(gate[index])")
            }
        }
    }

    private func checkExpAtTheEdgesOfItsRange(_ kernels: KernelSet) {
        let x: [Float] = [-.infinity, -1000, -87.4, -87.3, -10, 0, 1e-8, 10, 88.7, 89, 1000, .infinity]
        var y = [Float](repeating: .nan, count: x.count)
        VectorMath.expAffine(x, &y, x.count, kernels: kernels)
        for (input, output) in zip(x, y) {
            let expected = Foundation.exp(input)
            if expected == 0 || expected.isInfinite || expected < 1e-37 {
                XCTAssertEqual(output, expected, accuracy: 1e-37, "\(kernels) exp(\(input))")
            } else {
                XCTAssertEqual(output, expected, accuracy: expected * 1e-6, "\(kernels) exp(\(input))")
            }
        }
    }
}
