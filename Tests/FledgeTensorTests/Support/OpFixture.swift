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
}
