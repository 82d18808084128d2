import Foundation
import XCTest
@testable import FledgeTensor

/// The committed fixtures written by `Scripts/reference/make_op_fixtures.py` with PyTorch.
enum Fixtures {
    static var directory: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    static func open(_ name: String) throws -> SafeTensorsFile {
        try SafeTensorsFile(url: directory.appendingPathComponent(name))
    }

    static let ops = Result { try open("ops.safetensors") }
    /// The fused ops Gemma needs (GeGLU, soft-capped attention and selective log-softmax).
    static let gemmaOps = Result { try open("gemma_ops.safetensors") }
}

/// One op's tensors in `ops.safetensors`: `NAME/in0…`, `NAME/gout`, `NAME/out`, `NAME/grad0…`.
struct OpFixture {
    let file: SafeTensorsFile
    let name: String

    func tensor(_ suffix: String) throws -> Tensor { try file.tensor("\(name)/\(suffix)") }
    func integers(_ suffix: String) throws -> [Int] { try file.integers("\(name)/\(suffix)") }
    func has(_ suffix: String) -> Bool { file.names.contains("\(name)/\(suffix)") }

    func inputs() throws -> [Tensor] {
        var inputs: [Tensor] = []
        while has("in\(inputs.count)") { inputs.append(try tensor("in\(inputs.count)")) }
        return inputs
    }

    /// A scalar stored as a one-element tensor (`NAME/cap`, `NAME/scale`, …).
    func scalar(_ suffix: String) throws -> Float { try tensor(suffix).toArray()[0] }

    /// Runs `op` on the case's inputs, each trainable, backpropagates Σ output · upstream, and
    /// asserts the output and every input's gradient (`grad0…`) against PyTorch's within `tolerance`
    /// (max relative error, see `ErrorReport`). `expected` gives the output and upstream gradient
    /// (by default `out` and `gout`).
    func assertMatchesPyTorch(
        tolerance: Double, _ label: String,
        expected: ((OpFixture) throws -> (out: Tensor, gout: Tensor))? = nil,
        _ op: ([Tensor]) throws -> Tensor, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let inputs = try inputs()
        for input in inputs { input.requiresGrad = true }
        let (out, gout) = try expected?(self) ?? (try tensor("out"), try tensor("gout"))
        let output = try op(inputs)
        (output * gout).sum().backward()
        assertClose(output, DTensor(out), tolerance: tolerance, "\(label) forward", file: file, line: line)
        for (index, input) in inputs.enumerated() {
            guard let grad = input.grad else { XCTFail("\(label): no gradient for input \(index)", file: file, line: line); continue }
            assertClose(grad, DTensor(try tensor("grad\(index)")), tolerance: tolerance, "\(label) grad\(index)", file: file, line: line)
        }
    }
}
