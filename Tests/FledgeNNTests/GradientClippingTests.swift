import XCTest
@testable import FledgeNN

/// `GradientClipping.clipGlobalNorm` against `torch.nn.utils.clip_grad_norm_`.
final class GradientClippingTests: XCTestCase {
    func testMatchesTorch() throws {
        for name in ["clipped", "unclipped"] {
            let parameters = try (0..<3).map { index in
                let gradient = OptimizerFixture.copy(try OptimizerFixture.tensor("clip/\(name)/grad/\(index)"))
                let tensor = Tensor.zeros(gradient.shape)
                tensor.requiresGrad = true
                tensor.grad = gradient
                return Parameter(name: "p\(index)", tensor: tensor)
            }
            let maxNorm = Double(try OptimizerFixture.tensor("clip/\(name)/max_norm").item())
            let norm = GradientClipping.clipGlobalNorm(parameters, maxNorm: maxNorm)
            let expectedNorm = Double(try OptimizerFixture.tensor("clip/\(name)/norm").item())
            print(String(format: "  %@: norm %.7f, torch %.7f", name, norm, expectedNorm))
            XCTAssertEqual(norm, expectedNorm, accuracy: 1e-6 * expectedNorm, name)
            for (index, parameter) in parameters.enumerated() {
                assertClose(parameter.tensor.grad!, try OptimizerFixture.tensor("clip/\(name)/clipped/\(index)"),
                            tolerance: 1e-6, "\(name) gradient \(index)")
            }
        }
    }

    func testNonFiniteNormIsReturnedAndGradientsKept() {
        for bad in [Float.infinity, .nan] {
            let tensor = Tensor.zeros([2, 3])
            tensor.requiresGrad = true
            tensor.grad = Tensor(shape: [2, 3], values: [1, 2, bad, 4, 5, 6])
            let norm = GradientClipping.clipGlobalNorm([Parameter(name: "w", tensor: tensor)], maxNorm: 1)
            XCTAssertFalse(norm.isFinite)
            XCTAssertEqual(tensor.grad!.toArray()[0], 1)
        }
    }

    func testParametersWithoutGradientAreLeftOut() {
        let with = Tensor.zeros([3]), without = Tensor.zeros([2])
        for tensor in [with, without] { tensor.requiresGrad = true }
        with.grad = Tensor(shape: [3], values: [3, 0, 4])
        let norm = GradientClipping.clipGlobalNorm([Parameter(name: "a", tensor: with), Parameter(name: "b", tensor: without)], maxNorm: 1)
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(with.grad!.toArray()[0], 3 * Float(1) / (5 + 1e-6), accuracy: 1e-7)
        XCTAssertNil(without.grad)
    }
}
