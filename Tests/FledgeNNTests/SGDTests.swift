import XCTest
@testable import FledgeNN

/// `SGD` against `torch.optim.SGD` (plain, momentum with weight decay, Nesterov), 5 steps.
final class SGDTests: XCTestCase {
    func testMatchesTorchWithMomentumAndWeightDecay() throws {
        try check("sgd_momentum") { SGD(parameters: $0, momentum: 0.9, weightDecay: 0.01) }
    }

    func testMatchesTorchWithNesterov() throws {
        try check("sgd_nesterov") { SGD(parameters: $0, momentum: 0.9, nesterov: true) }
    }

    func testMatchesTorchWithoutMomentum() throws {
        try check("sgd_plain") { SGD(parameters: $0, weightDecay: 0.01) }
    }

    func testResumesExactlyFromSavedState() throws {
        try assertResumesExactly(self, learningRate: 0.05) { SGD(parameters: $0, momentum: 0.9, weightDecay: 0.01) }
    }

    private func check(_ name: String, _ make: ([Parameter]) -> SGD) throws {
        let optimizer = make(try OptimizerFixture.parameters())
        try OptimizerFixture.run(optimizer, learningRate: 0.05, steps: 0..<OptimizerFixture.steps)
        let state = try SafeTensorsFile(url: write(optimizer, in: self))
        for parameter in optimizer.parameters {
            assertClose(parameter.tensor, try OptimizerFixture.tensor("\(name)/\(parameter.name)"), tolerance: 1e-6, "\(name) \(parameter.name)")
            let buffer = "\(name)/momentum_buffer/\(parameter.name)"
            if optimizer.momentum != 0 {
                assertClose(try state.tensor("momentum_buffer/\(parameter.name)"), try OptimizerFixture.tensor(buffer), tolerance: 1e-6, buffer)
            }
        }
        XCTAssertEqual(optimizer.stateBytes, optimizer.momentum == 0 ? 0 : 4 * optimizer.parameters.reduce(0) { $0 + $1.tensor.count })
    }
}
