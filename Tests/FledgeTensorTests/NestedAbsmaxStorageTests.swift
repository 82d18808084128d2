import XCTest
@testable import FledgeTensor

/// A 4-bit matrix with nested statistics keeps its absmax compressed (33 bytes per block of 64
/// instead of 36) and computes exactly what the same weights with their absmax decoded to
/// float32 compute: the same dequantized floats, bit for bit, and the same products through
/// every path (decoding, blocked, input gradient, portable), as views and stacked.
final class NestedAbsmaxStorageTests: XCTestCase {
    private let rows = 40, columns = 768
    private let groups = [0..<24, 24..<40]

    /// The nested matrix and its twin in the self-contained 36-byte blocks, each group's absmax
    /// replaced by its nested-quantized value as bitsandbytes decodes it.
    private func matrices(_ format: QuantizationFormat, seed: UInt64) throws -> (nested: QuantizedMatrix, expanded: QuantizedMatrix) {
        var generator = SeededGenerator(seed: seed)
        let weight = Tensor.normal([rows, columns], standardDeviation: 0.05, using: &generator)
        let nested = try QuantizedMatrix(quantizing: weight, format: format, name: "w", nestedAbsmaxRows: groups)
        let block = format.blockFormat as! any BitsAndBytes4BitFormat.Type
        var packed: [UInt8] = [], absmax: [Float] = []
        for group in groups {
            let part = try QuantizedMatrix(quantizing: Tensor(shape: [group.count, columns], values: Array(weight.toArray()[(group.lowerBound * columns)..<(group.upperBound * columns)])),
                                           format: format, name: "w")
            let (partPacked, partAbsmax) = part.withBlocks { start, _ in block.split(Array(UnsafeBufferPointer(start: start, count: part.byteCount))) }
            packed += partPacked
            absmax += NestedAbsmax(compressing: partAbsmax).absmax
        }
        let expanded = try QuantizedMatrix(format: format, rows: rows, columns: columns, blocks: block.blocks(packed: packed, absmax: absmax), name: "w")
        return (nested, expanded)
    }

    private func assertBitwiseEqual(_ actual: Tensor, _ expected: Tensor, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, what, file: file, line: line)
        XCTAssertEqual(actual.toArray().map(\.bitPattern), expected.toArray().map(\.bitPattern), what, file: file, line: line)
    }

    func testCompactBlocksDequantizeAndMultiplyLikeDecodedAbsmax() throws {
        for format in [QuantizationFormat.nf4, .fp4] {
            let (nested, expanded) = try matrices(format, seed: 31)
            let scales = groups.reduce(0) { $0 + ($1.count * columns / 64 + 255) / 256 }
            XCTAssertEqual(nested.byteCount, rows * columns / 64 * 33 + (scales + groups.count) * 4, "\(format) bytes")
            XCTAssertLessThan(nested.byteCount, expanded.byteCount)
            assertBitwiseEqual(nested.dequantized(), expanded.dequantized(), "\(format) dequantized")
            var generator = SeededGenerator(seed: 7)
            for m in [1, 3, 37] {
                let x = Tensor.uniform([m, columns], in: -1..<1, using: &generator), g = Tensor.uniform([m, rows], in: -1..<1, using: &generator)
                for vectorized in [true, false] where !vectorized || CPU.hasAVX2 {
                    func products(_ w: QuantizedMatrix) -> (Tensor, Tensor) {
                        let forward = Tensor(uninitializedShape: [m, rows]), backward = Tensor(uninitializedShape: [m, columns])
                        QuantizedGEMM.multiplyTransposed(m: m, x.matrixOperand, w, into: forward.pointer, ldc: rows, vectorized: vectorized)
                        QuantizedGEMM.multiply(m: m, g.matrixOperand, w, into: backward.pointer, ldc: columns, vectorized: vectorized)
                        return (forward, backward)
                    }
                    let (nestedForward, nestedBackward) = products(nested), (forward, backward) = products(expanded)
                    assertBitwiseEqual(nestedForward, forward, "\(format) forward, \(m) rows, vectorized \(vectorized)")
                    assertBitwiseEqual(nestedBackward, backward, "\(format) dX, \(m) rows, vectorized \(vectorized)")
                }
            }
        }
    }

    /// Views cut a group of rows; stacking them again keeps each block's scale.
    func testViewsAndStackingKeepEachBlocksStatistics() throws {
        let (nested, expanded) = try matrices(.nf4, seed: 12)
        let order = [30..<40, 3..<27, 0..<3, 27..<30]
        let stacked = try QuantizedMatrix(stacking: order.map { nested.rows($0) }, name: "w")
        let expected = try QuantizedMatrix(stacking: order.map { expanded.rows($0) }, name: "w")
        XCTAssertNotNil(stacked.nestedAbsmax)
        assertBitwiseEqual(stacked.dequantized(), expected.dequantized(), "stacked views")
        assertBitwiseEqual(nested.rows(5..<33).dequantized(), expanded.rows(5..<33).dequantized(), "a view")
        XCTAssertThrowsError(try QuantizedMatrix(stacking: [nested, expanded], name: "fused")) { error in
            XCTAssertTrue("\(error)".contains("nested absmax"), "\(error)")
        }
    }
}
