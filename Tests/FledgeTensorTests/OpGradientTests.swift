import XCTest
@testable import FledgeTensor

/// Every op's forward and backward, on the non-square inputs of the PyTorch fixtures,
/// checked two independent ways: against PyTorch's outputs and gradients, and against a
/// float64 reference implementation and its central finite differences.
final class OpGradientTests: XCTestCase {
    private struct Run {
        let output: Tensor
        let grads: [Tensor?]
    }

    private func runEngine(_ op: OpCase, _ fixture: OpFixture, upstream: Tensor) throws -> Run {
        let inputs = try fixture.inputs()
        for input in inputs { input.requiresGrad = true }
        let output = try op.engine(inputs, fixture)
        (output * upstream).sum().backward()
        return Run(output: output, grads: inputs.map(\.grad))
    }

    func testEveryOpMatchesPyTorch() throws {
        let file = try Fixtures.ops.get()
        for op in OpCase.all {
            let fixture = OpFixture(file: file, name: op.name)
            let (out, gout) = try op.expected(fixture)
            print("\(op.name) vs PyTorch:")
            let run = try runEngine(op, fixture, upstream: gout)
            assertClose(run.output, DTensor(out), tolerance: op.tolerance, "\(op.name) forward")
            for (index, grad) in run.grads.enumerated() {
                let expected = try fixture.tensor("grad\(index)")
                guard let grad else { XCTFail("\(op.name): no gradient for input \(index)"); continue }
                assertClose(grad, DTensor(expected), tolerance: op.tolerance, "\(op.name) grad\(index)")
            }
        }
    }

    func testEveryOpMatchesFloat64FiniteDifferences() throws {
        let file = try Fixtures.ops.get()
        for op in OpCase.all {
            let fixture = OpFixture(file: file, name: op.name)
            let gout = try op.expected(fixture).gout
            let inputs = try fixture.inputs().map(DTensor.init)
            print("\(op.name) vs float64 reference:")
            let run = try runEngine(op, fixture, upstream: gout)
            let reference = { (x: [DTensor]) in try! op.reference(x, fixture) }
            assertClose(run.output, reference(inputs), tolerance: op.tolerance, "\(op.name) forward")
            let numeric = FiniteDifferences.gradients(
                of: reference, at: inputs, upstream: DTensor(gout), which: Array(inputs.indices))
            for (index, grad) in run.grads.enumerated() {
                guard let grad else { XCTFail("\(op.name): no gradient for input \(index)"); continue }
                assertClose(grad, numeric[index], tolerance: op.tolerance, "\(op.name) grad\(index) vs finite differences")
            }
        }
    }

    func testFixtureCoversEveryOp() throws {
        let file = try Fixtures.ops.get()
        let fixtureCases = Set(file.names.compactMap { $0.split(separator: "/").first.map(String.init) })
        let tested = Set(OpCase.all.map(\.name))
        XCTAssertEqual(fixtureCases.subtracting(tested), [], "fixture cases without a Swift test")
        XCTAssertEqual(tested.subtracting(fixtureCases), [], "Swift cases without a fixture")
    }
}
