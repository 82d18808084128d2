import XCTest
@testable import FledgeNN

/// `AdamW` against `torch.optim.AdamW` (5 steps with fixed gradients, a decayed group and an
/// undecayed bias), and its state round trip.
final class AdamWTests: XCTestCase {
    func testMatchesTorchAfterFiveSteps() throws {
        try check("adamw", learningRate: 1e-3) { AdamW(parameters: $0, weightDecay: 0.01) }
    }

    /// β₁ = 0.5 takes PyTorch's other lerp branch (g − (1 − w)(g − m) for weights w ≥ 0.5).
    func testMatchesTorchWithHalfBeta1() throws {
        try check("adamw_beta_half", learningRate: 2e-3) { AdamW(parameters: $0, beta1: 0.5, beta2: 0.99, epsilon: 1e-6, weightDecay: 0.1) }
    }

    func testResumesExactlyFromSavedState() throws {
        try assertResumesExactly(self, learningRate: 1e-3) { AdamW(parameters: $0, weightDecay: 0.01) }
    }

    func testSkipsParametersWithoutGradient() throws {
        let parameters = try OptimizerFixture.parameters()
        let optimizer = AdamW(parameters: parameters, weightDecay: 0.01)
        let before = parameters[1].tensor.toArray()
        try OptimizerFixture.setGradients(step: 0, parameters)
        parameters[1].tensor.grad = nil
        optimizer.step(learningRate: 1e-3)
        XCTAssertEqual(parameters[1].tensor.toArray(), before)
        XCTAssertNotEqual(parameters[0].tensor.toArray(), try OptimizerFixture.tensor("param/layer.weight").toArray())
        let state = try SafeTensorsFile(url: write(optimizer, in: self))
        XCTAssertEqual(try state.integers("step/layer.bias"), [0])
        XCTAssertEqual(try state.integers("step/layer.weight"), [1])
        XCTAssertEqual(try state.integers("step"), [1])
    }

    func testStateBytesAreTwoFloatsPerElement() throws {
        let parameters = try OptimizerFixture.parameters()
        let elements = parameters.reduce(0) { $0 + $1.tensor.count }
        XCTAssertEqual(AdamW(parameters: parameters).stateBytes, 8 * elements)
    }

    func testLoadingStateOfOtherParametersNamesTheEntry() throws {
        let parameters = try OptimizerFixture.parameters()
        let saved = try write(AdamW(parameters: Array(parameters.prefix(2))), in: self)
        let optimizer = AdamW(parameters: parameters)
        XCTAssertThrowsError(try optimizer.loadState(from: SafeTensorsFile(url: saved))) { error in
            XCTAssertTrue("\(error)".contains("'step/proj.weight' is missing"), "\(error)")
        }

        let other = try OptimizerFixture.parameters().map { parameter in
            let tensor = Tensor.zeros([parameter.tensor.count + 1])
            tensor.requiresGrad = true
            return Parameter(name: parameter.name, tensor: tensor)
        }
        let wrongShape = try write(AdamW(parameters: other), in: self)
        XCTAssertThrowsError(try optimizer.loadState(from: SafeTensorsFile(url: wrongShape))) { error in
            XCTAssertTrue("\(error)".contains("'exp_avg/layer.weight' has shape [36] but parameter 'layer.weight' (float32 state) needs [5, 7]"), "\(error)")
        }
        XCTAssertEqual(optimizer.stepCount, 0, "a failed load changes nothing")
    }

    private func check(_ name: String, learningRate: Double, _ make: ([Parameter]) -> AdamW) throws {
        let optimizer = make(try OptimizerFixture.parameters())
        try OptimizerFixture.run(optimizer, learningRate: learningRate, steps: 0..<OptimizerFixture.steps)
        XCTAssertEqual(optimizer.stepCount, OptimizerFixture.steps)
        let state = try SafeTensorsFile(url: write(optimizer, in: self))
        for parameter in optimizer.parameters {
            assertClose(parameter.tensor, try OptimizerFixture.tensor("\(name)/\(parameter.name)"), tolerance: 1e-6, "\(name) \(parameter.name)")
            for moment in ["exp_avg", "exp_avg_sq"] {
                assertClose(try state.tensor("\(moment)/\(parameter.name)"), try OptimizerFixture.tensor("\(name)/\(moment)/\(parameter.name)"),
                            tolerance: 1e-6, "\(name) \(moment) \(parameter.name)")
            }
        }
    }
}
