import Foundation
import XCTest
@testable import FledgeNN

/// `optimizers.safetensors`, written by `Scripts/reference/make_optimizer_fixtures.py` with PyTorch,
/// and bitsandbytes.
enum OptimizerFixture {
    static let file = Result {
        try SafeTensorsFile(url: Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
            .appendingPathComponent("optimizers.safetensors"))
    }

    /// The fixture's parameter names, in the script's order.
    static let names = ["layer.weight", "layer.bias", "proj.weight", "big.weight"]
    /// Optimizer steps the script takes.
    static let steps = 5

    /// Fresh trainable copies of the initial parameters (decay by the default rule: not the bias).
    static func parameters() throws -> [Parameter] {
        try names.map { name in
            let tensor = try copy(file.get().tensor("param/\(name)"))
            tensor.requiresGrad = true
            return Parameter(name: name, tensor: tensor)
        }
    }

    /// Gives each parameter the script's gradient of step `step` (0-based).
    static func setGradients(step: Int, _ parameters: [Parameter]) throws {
        for parameter in parameters {
            parameter.tensor.grad = try copy(file.get().tensor("grad/\(step)/\(parameter.name)"))
        }
    }

    /// Takes the optimizer steps `steps` (0-based) at `learningRate` with the script's gradients.
    static func run(_ optimizer: any Optimizer, learningRate: Double, steps: Range<Int>) throws {
        for step in steps {
            try setGradients(step: step, optimizer.parameters)
            optimizer.step(learningRate: learningRate)
            optimizer.zeroGrad()
        }
    }

    static func tensor(_ name: String) throws -> Tensor { try file.get().tensor(name) }
    static func integers(_ name: String) throws -> [Int] { try file.get().integers(name) }

    /// An independent copy (fixture tensors borrow the file's mapped pages).
    static func copy(_ tensor: Tensor) -> Tensor { Tensor(shape: tensor.shape, values: tensor.toArray()) }
}

/// The largest |actual − expected| / (|expected| + mean |expected|): relative error, judged against
/// the tensor's scale where an element is near zero.
func maxRelativeError(_ actual: [Float], _ expected: [Float]) -> Double {
    precondition(actual.count == expected.count, "comparing \(actual.count) values with \(expected.count)")
    let scale = expected.reduce(0) { $0 + abs(Double($1)) } / Double(max(expected.count, 1))
    return zip(actual, expected).reduce(0) { worst, pair in
        let difference = abs(Double(pair.0) - Double(pair.1))
        return difference.isNaN ? .infinity : max(worst, difference / (abs(Double(pair.1)) + scale + 1e-30))
    }
}

/// Asserts `actual` is within `tolerance` (max relative error) of `expected`, and prints the error.
func assertClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Double, _ label: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(actual.shape, expected.shape, "\(label): shape", file: file, line: line)
    let error = maxRelativeError(actual.toArray(), expected.toArray())
    print(String(format: "  %@: max rel error %.2e", label, error))
    XCTAssertLessThanOrEqual(error, tolerance, "\(label)", file: file, line: line)
}

/// A directory for a test's files, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-nn-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    return directory
}

/// Checks that saving state after 3 steps and loading it into a fresh optimizer, then taking 2 more
/// steps, gives bit for bit the parameters and state of 5 straight steps.
func assertResumesExactly(
    _ test: XCTestCase, learningRate: Double, _ make: ([Parameter]) -> any Optimizer,
    file: StaticString = #filePath, line: UInt = #line
) throws {
    let straight = make(try OptimizerFixture.parameters())
    try OptimizerFixture.run(straight, learningRate: learningRate, steps: 0..<5)

    let parameters = try OptimizerFixture.parameters()
    let first = make(parameters)
    try OptimizerFixture.run(first, learningRate: learningRate, steps: 0..<3)
    let resumed = make(parameters)
    try resumed.loadState(from: SafeTensorsFile(url: write(first, in: test)))
    XCTAssertEqual(resumed.stepCount, 3, file: file, line: line)
    try OptimizerFixture.run(resumed, learningRate: learningRate, steps: 3..<5)

    XCTAssertEqual(resumed.stepCount, straight.stepCount, file: file, line: line)
    for (a, b) in zip(straight.parameters, resumed.parameters) {
        XCTAssertEqual(a.tensor.toArray().map(\.bitPattern), b.tensor.toArray().map(\.bitPattern), "\(a.name)", file: file, line: line)
    }
    let savedStraight = try SafeTensorsFile(url: write(straight, in: test))
    let savedResumed = try SafeTensorsFile(url: write(resumed, in: test))
    XCTAssertEqual(savedStraight.names, savedResumed.names, file: file, line: line)
    for name in savedStraight.names {
        if savedStraight.info(name)!.dtype.isFloatingPoint {
            XCTAssertEqual(try savedStraight.tensor(name).toArray().map(\.bitPattern),
                           try savedResumed.tensor(name).toArray().map(\.bitPattern), name, file: file, line: line)
        } else {
            XCTAssertEqual(try savedStraight.integers(name), try savedResumed.integers(name), name, file: file, line: line)
        }
    }
}

/// Writes the optimizer's state to a new file and returns where.
func write(_ optimizer: any Optimizer, in test: XCTestCase) throws -> URL {
    let url = try temporaryDirectory(test).appendingPathComponent("state.safetensors")
    try SafeTensorsWriter.write(optimizer.stateEntries(), to: url)
    return url
}
