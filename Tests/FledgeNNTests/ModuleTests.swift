import XCTest
@testable import FledgeNN

/// `Module`: parameters and children named once in `members`, walked under dotted paths.
final class ModuleTests: XCTestCase {
    /// A block with a child list, an optional child and a parameter of its own.
    private final class Block: Module {
        let projections = [Linear(inFeatures: 3, outFeatures: 2, bias: true), Linear(inFeatures: 2, outFeatures: 3, bias: false)]
        let norm: RMSNorm? = RMSNorm(dimension: 3, eps: 1e-6)
        var scale = Tensor.placeholder([1])

        func members(_ visitor: ModuleVisitor) {
            for (index, projection) in projections.enumerated() { visitor.child("layers.\(index)", projection) }
            if let norm { visitor.child("norm", norm) }
            visitor.parameter("scale", &scale)
        }
    }

    func testParametersAndModulesAreListedUnderDottedPathsInMembersOrder() {
        let block = Block()
        XCTAssertEqual(block.namedParameters.map(\.0), ["layers.0.weight", "layers.0.bias", "layers.1.weight", "norm.weight", "scale"])
        XCTAssertEqual(block.namedParameters.map(\.1.shape), [[2, 3], [2], [3, 2], [3], [1]])
        XCTAssertEqual(block.namedModules.map(\.0), ["layers.0", "layers.1", "norm"])
        XCTAssertTrue(block.namedModules[1].1 === block.projections[1])
    }

    func testUpdatingParametersReplacesEachOneByItsPath() {
        let block = Block()
        block.updateParameters { name, declared in Tensor.full(declared.shape, Float(name.count)) }
        XCTAssertEqual(block.projections[0].bias?.toArray(), [13, 13])
        XCTAssertEqual(block.norm?.weight.toArray(), [11, 11, 11])
        XCTAssertEqual(block.scale.toArray(), [5])
    }

    func testPlaceholdersHoldOneElementWhateverTheirShape() {
        let placeholder = Tensor.placeholder([1 << 20, 1 << 20])
        XCTAssertEqual(placeholder.shape, [1 << 20, 1 << 20])
        XCTAssertEqual(placeholder.strides, [0, 0], "one zero seen through zero strides: a terabyte declared, four bytes held")
    }
}
