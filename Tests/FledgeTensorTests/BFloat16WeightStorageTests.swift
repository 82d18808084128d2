import XCTest
@testable import FledgeTensor

/// A frozen weight stored in bfloat16 (`QuantizationFormat.bf16`, `BFloat16Blocks`): each weight
/// rounded to the nearest bfloat16 in two bytes, decoded exactly, and — under bfloat16 `Autocast`,
/// which rounds every weight of a product to bfloat16 anyway — products and input gradients equal
/// to the bit with those of the float32 weight it was rounded from, for every row count (the few-row
/// kernels of decoding, the weight-rows path of 9 to 32 rows, the blocked GEMM) and with or without
/// a bias. Out 600 puts the input gradient's depth over several blocks of 256; in 300 is not a
/// multiple of 16.
final class BFloat16WeightStorageTests: XCTestCase {
    func testStoresEachWeightRoundedToNearestEvenInTwoBytes() throws {
        let values: [Float] = [1, 1 + 0x1p-8, 1 + 0x3p-8, -2.5e-3, 3.14159, 1e30, -0x1.8p-133, 0]
        let stored = try QuantizedMatrix(quantizing: Tensor(shape: [2, 4], values: values), format: .bf16, name: "w")
        XCTAssertEqual(stored.byteCount, 16)
        XCTAssertEqual(stored.dequantized().toArray().map(\.bitPattern), values.map(\.roundedToBFloat16.bitPattern))
        XCTAssertEqual(stored.dequantized().toArray()[1], 1, "a tie rounds to the even neighbour")
        XCTAssertEqual(stored.dequantized().toArray()[2], 1 + 0x4p-8, "a tie rounds to the even neighbour")
        XCTAssertEqual(stored.rows(1..<2).dequantized().toArray(), Array(stored.dequantized().toArray()[4...]))
    }

    func testAutocastProductsEqualThoseOfTheFloatWeightBitForBit() throws {
        var generator = SeededGenerator(seed: 25)
        for (rows, columns) in [(40, 300), (600, 72)] {
            let weight = Tensor.normal([rows, columns], standardDeviation: 0.05, using: &generator)
            let bias = Tensor.normal([rows], standardDeviation: 0.1, using: &generator)
            let stored = try QuantizedMatrix(quantizing: weight, format: .bf16, name: "w")
            for m in [1, 3, 5, 8, 9, 24, 33, 100] {
                let x = Tensor.uniform([m, columns], in: -1..<1, using: &generator)
                let upstream = Tensor.uniform([m, rows], in: -1..<1, using: &generator)
                for withBias in [false, true] {
                    func run(_ product: (Tensor) -> Tensor) throws -> (y: [UInt32], dx: [UInt32]) {
                        let input = x.copied()
                        input.requiresGrad = true
                        let y = Autocast.$precision.withValue(.bfloat16) { product(input) }
                        Autocast.$precision.withValue(.bfloat16) { (y * upstream).sum().backward() }
                        return (y.toArray().map(\.bitPattern), try XCTUnwrap(input.grad).toArray().map(\.bitPattern))
                    }
                    let float = try run { $0.matmul(weight.transposed(), adding: withBias ? bias : nil) }
                    let bfloat16 = try run { $0.matmul(transposedQuantized: stored, adding: withBias ? bias : nil) }
                    let label = "[\(rows), \(columns)] weight, \(m) rows, bias \(withBias)"
                    XCTAssertEqual(bfloat16.y, float.y, "forward, \(label)")
                    XCTAssertEqual(bfloat16.dx, float.dx, "input gradient, \(label)")
                }
            }
        }
    }

    /// Outside autocast a bfloat16 weight is a float32 product of its bfloat16 values, like any
    /// quantized weight's: the few-row kernels give the float GEMM's sums of the decoded weight.
    func testFloat32ProductsMultiplyTheStoredValues() throws {
        var generator = SeededGenerator(seed: 26)
        let weight = Tensor.normal([40, 300], standardDeviation: 0.05, using: &generator)
        let stored = try QuantizedMatrix(quantizing: weight, format: .bf16, name: "w")
        let dense = stored.dequantized()
        for m in [1, 5, 8] {
            let x = Tensor.uniform([m, 300], in: -1..<1, using: &generator)
            let got = Tensor.withoutGrad { x.matmul(transposedQuantized: stored) }.toArray()
            XCTAssertEqual(got.map(\.bitPattern), Tensor.withoutGrad { x.matmul(dense.transposed()) }.toArray().map(\.bitPattern), "\(m) rows")
            XCTAssertNotEqual(got, Tensor.withoutGrad { x.matmul(weight.transposed()) }.toArray(), "the weight was rounded")
        }
    }
}
