import XCTest
@testable import FledgeTensor

/// Products with a quantized weight equal the float products with its dequantized matrix: the
/// few-row path (decoding), the blocked path (prefill, training: panels dequantized while
/// packing) and the input gradient through the frozen weight.
final class QuantizedMatmulTests: XCTestCase {
    /// Out 40 (two and a half panels of 16), in 768 (three depth blocks; Q4_K's super-blocks
    /// straddle the backward's column chunks).
    private let rows = 40, columns = 768

    private func maxRelativeError(_ actual: [Float], _ expected: [Float]) -> Float {
        let scale = expected.reduce(Float(0)) { max($0, abs($1)) }
        return zip(actual, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) } / scale
    }

    func testProductsMatchTheDequantizedWeight() throws {
        var generator = SeededGenerator(seed: 18)
        let weight = Tensor.normal([rows, columns], standardDeviation: 0.05, using: &generator)
        for format in QuantizationFormat.allCases {
            let quantized = try QuantizedMatrix(quantizing: weight, format: format, name: "w")
            XCTAssertEqual(quantized.byteCount, rows * columns / format.blockFormat.valuesPerBlock * format.blockFormat.bytesPerBlock)
            let dense = quantized.dequantized()
            for m in [1, 3, 37] {
                let x = Tensor.uniform([m, columns], in: -1..<1, using: &generator)
                x.requiresGrad = true
                let y = x.matmul(transposedQuantized: quantized)
                XCTAssertEqual(y.shape, [m, rows])
                let expected = Tensor.withoutGrad { x.matmul(dense.transposed()) }
                XCTAssertLessThan(maxRelativeError(y.toArray(), expected.toArray()), 1e-5, "\(format) forward, \(m) rows")

                let upstream = Tensor.uniform([m, rows], in: -1..<1, using: &generator)
                (y * upstream).sum().backward()
                let gradient = Tensor.withoutGrad { upstream.matmul(dense) }
                XCTAssertLessThan(maxRelativeError(try XCTUnwrap(x.grad).toArray(), gradient.toArray()), 1e-5, "\(format) dX, \(m) rows")
            }
        }
    }

    /// The path of CPUs without AVX2 (W decoded in row blocks for the portable GEMM), both ways.
    func testPortablePathMatchesTheDequantizedWeight() throws {
        var generator = SeededGenerator(seed: 9)
        for format in [QuantizationFormat.q4_k, .nf4] {
            let w = try QuantizedMatrix(quantizing: Tensor.normal([300, 512], standardDeviation: 0.05, using: &generator), format: format, name: "w")
            let dense = w.dequantized()
            for m in [2, 30] {
                let x = Tensor.uniform([m, 512], in: -1..<1, using: &generator), g = Tensor.uniform([m, 300], in: -1..<1, using: &generator)
                let forward = Tensor(uninitializedShape: [m, 300]), backward = Tensor(uninitializedShape: [m, 512])
                QuantizedGEMM.multiplyTransposed(m: m, x.matrixOperand, w, into: forward.pointer, ldc: 300, vectorized: false)
                QuantizedGEMM.multiply(m: m, g.matrixOperand, w, into: backward.pointer, ldc: 512, vectorized: false)
                XCTAssertLessThan(maxRelativeError(forward.toArray(), x.matmul(dense.transposed()).toArray()), 1e-5, "\(format) forward")
                XCTAssertLessThan(maxRelativeError(backward.toArray(), g.matmul(dense).toArray()), 1e-5, "\(format) dX")
            }
        }
    }

    func testBatchedInputFoldsIntoRows() throws {
        var generator = SeededGenerator(seed: 5)
        let quantized = try QuantizedMatrix(quantizing: Tensor.normal([rows, columns], standardDeviation: 0.05, using: &generator),
                                            format: .q8_0, name: "w")
        let x = Tensor.uniform([2, 5, columns], in: -1..<1, using: &generator)
        let y = x.matmul(transposedQuantized: quantized)
        XCTAssertEqual(y.shape, [2, 5, rows])
        let expected = x.matmul(quantized.dequantized().transposed())
        XCTAssertLessThan(maxRelativeError(y.toArray(), expected.toArray()), 1e-5)
    }

    func testRejectsRowsThatAreNotWholeBlocksAndNonFiniteValues() {
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor.zeros([4, 96]), format: .q4_k, name: "layers.0.mlp.up_proj.weight")) { error in
            XCTAssertTrue("\(error)".contains("layers.0.mlp.up_proj.weight: rows of 96 values are not a whole number of q4_k blocks of 256"), "\(error)")
        }
        var values = [Float](repeating: 0, count: 64)
        values[9] = .nan
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(shape: [1, 64], values: values), format: .nf4, name: "w")) { error in
            XCTAssertEqual(error as? QuantizationError, .nonFinite(weight: "w", index: 9))
        }
    }
}
