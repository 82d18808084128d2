import XCTest
@testable import FledgeTensor

/// The fused GeGLU (`gelu_pytorch_tanh(gate) · up`, Gemma's MLP) against PyTorch on a
/// non-square `[3, 5, 19]` case (AVX2 blocks and a tail), and its AVX2 kernels against their
/// portable twins.
final class GeGLUTests: XCTestCase {
    func testGeGLUAndItsGradientsMatchPyTorch() throws {
        let fixture = OpFixture(file: try Fixtures.gemmaOps.get(), name: "geglu")
        try fixture.assertMatchesPyTorch(tolerance: Tolerance.elementwise, "geglu") { x in Tensor.geGLU(gate: x[0], up: x[1]) }
    }

    /// The fused kernel equals GELU-tanh composed from differentiable operations, with gradients.
    func testGeGLUMatchesTheComposedFormula() {
        var generator = SeededGenerator(seed: 3)
        let gate = Tensor.normal([4, 37], standardDeviation: 3, using: &generator)
        let up = Tensor.normal([4, 37], standardDeviation: 1, using: &generator)
        let weights = Tensor.normal([4, 37], standardDeviation: 1, using: &generator)
        func run(_ f: (Tensor, Tensor) -> Tensor) -> [Tensor] {
            gate.grad = nil
            up.grad = nil
            gate.requiresGrad = true
            up.requiresGrad = true
            let out = f(gate, up)
            (out * weights).sum().backward()
            return [out, gate.grad!, up.grad!]
        }
        let fused = run { Tensor.geGLU(gate: $0, up: $1) }
        let composed = run { gate, up in
            let inner = (gate + gate * gate.square() * 0.044715) * Float((2 / Double.pi).squareRoot())
            return gate * (inner.tanh() + 1) * 0.5 * up
        }
        for (index, (got, expected)) in zip(fused, composed).enumerated() {
            assertClose(got, DTensor(expected), tolerance: Tolerance.elementwise, ["output", "d gate", "d up"][index])
        }
    }

    func testTheAVX2KernelsMatchThePortableOnes() throws { try checkAgainstThePortableKernels(.avx2) }
    func testTheAVX512KernelsMatchThePortableOnes() throws { try checkAgainstThePortableKernels(.avx512) }
    func testTheAVX512VNNIKernelsMatchThePortableOnes() throws { try checkAgainstThePortableKernels(.avx512VNNI) }

    private func checkAgainstThePortableKernels(_ kernels: KernelSet) throws {
        try skipUnlessAvailable(kernels)
        var generator = SeededGenerator(seed: 8)
        for n in [1, 7, 33, 1000] {
            let gate = Tensor.uniform([n], in: -8..<8, using: &generator).toArray()
            let up = Tensor.uniform([n], in: -2..<2, using: &generator).toArray()
            let grad = Tensor.uniform([n], in: -1..<1, using: &generator).toArray()
            assertKernelsAgree(kernels, gate: gate, up: up, grad: grad, "n = \(n)")
        }
        let extremes: [Float] = [-1000, -89, -30, -5, -1e-3, 0, 1e-3, 5, 30, 89, 1000]
        assertKernelsAgree(kernels, gate: extremes, up: Array(repeating: 1.5, count: extremes.count),
                           grad: Array(repeating: 0.5, count: extremes.count), "extreme gates")
    }

    /// Forward, d gate and d up of the `kernels` and portable kernels agree within 1e-5 relative (floor 1e-3).
    private func assertKernelsAgree(_ kernels: KernelSet, gate: [Float], up: [Float], grad: [Float], _ label: String) {
        let n = gate.count
        var fast = [Float](repeating: .nan, count: n), plain = fast
        var fastGate = fast, fastUp = fast, plainGate = fast, plainUp = fast
        VectorMath.gatedLinearUnitForward(.geluTanh, gate, up, &fast, n, kernels: kernels)
        PortableVectorMath.geGLUForward(gate, up, &plain, n)
        VectorMath.gatedLinearUnitBackward(.geluTanh, gate, up, grad, &fastGate, &fastUp, n, kernels: kernels)
        PortableVectorMath.geGLUBackward(gate, up, grad, &plainGate, &plainUp, n)
        for (part, a, b) in [("forward", fast, plain), ("d gate", fastGate, plainGate), ("d up", fastUp, plainUp)] {
            let worst = zip(a, b).map { Swift.abs($0 - $1) / Swift.max(Swift.abs($1), 1e-3) }.max()!
            XCTAssertLessThan(worst, Float(Tolerance.elementwise), "\(kernels) \(part), \(label)")
            XCTAssertTrue(a.allSatisfy(\.isFinite), "\(kernels) \(part), \(label): \(a)")
        }
    }
}
