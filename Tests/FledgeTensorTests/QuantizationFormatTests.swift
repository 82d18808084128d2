import XCTest
@testable import FledgeTensor

/// Each quantized weight format against the reference library's blocks in
/// `quantization.safetensors` (written by `Scripts/reference/make_quant_fixtures.py` with
/// gguf-py and bitsandbytes' CPU backend): dequantization bit for bit, and Fledge's quantizer
/// producing the reference's bytes.
final class QuantizationFormatTests: XCTestCase {
    private static let file = Result { try Fixtures.open("quantization.safetensors") }

    private func floats(_ name: String) throws -> [Float] { try Self.file.get().tensor(name).toArray() }
    private func bytes(_ name: String) throws -> [UInt8] { try Self.file.get().integers(name).map { UInt8($0) } }

    private func dequantize<Format: BlockFormat>(_ format: Format.Type, _ blocks: [UInt8]) -> [Float] {
        let count = blocks.count / Format.bytesPerBlock * Format.valuesPerBlock
        return [Float](unsafeUninitializedCapacity: count) { output, initialized in
            blocks.withUnsafeBytes { Format.dequantize($0, into: output) }
            initialized = count
        }
    }

    private func quantize<Format: QuantizingBlockFormat>(_ format: Format.Type, _ values: [Float]) -> [UInt8] {
        var blocks = [UInt8](repeating: 0xAA, count: Format.byteCount(values: values.count)!)
        values.withUnsafeBufferPointer { source in blocks.withUnsafeMutableBytes { Format.quantize(source, into: $0) } }
        return blocks
    }

    /// Bit patterns, so that −0 and +0 (and every last bit) count.
    private func assertBitwiseEqual(_ actual: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        let differing = zip(actual, expected).enumerated().filter { $0.element.0.bitPattern != $0.element.1.bitPattern }
        XCTAssertTrue(differing.isEmpty, "\(what): \(differing.count) values differ, first at \(differing.first.map { "\($0.offset): \($0.element.0) vs \($0.element.1)" } ?? "")", file: file, line: line)
    }

    func testQ8_0MatchesGGUFPy() throws {
        let blocks = try bytes("q8_0/blocks")
        assertBitwiseEqual(dequantize(Q8_0.self, blocks), try floats("q8_0/dequantized"), "Q8_0 dequantize")
        XCTAssertEqual(quantize(Q8_0.self, try floats("q8_0/weights")), blocks, "Q8_0 quantize")
    }

    func testQ4_0MatchesGGUFPy() throws {
        let blocks = try bytes("q4_0/blocks")
        assertBitwiseEqual(dequantize(Q4_0.self, blocks), try floats("q4_0/dequantized"), "Q4_0 dequantize")
        XCTAssertEqual(quantize(Q4_0.self, try floats("q4_0/weights")), blocks, "Q4_0 quantize")
    }

    func testQ4_KDequantizesLikeGGUFPy() throws {
        assertBitwiseEqual(dequantize(Q4_K.self, try bytes("q4_k/blocks")), try floats("q4_k/dequantized"), "Q4_K dequantize")
    }

    /// Q4_K's quantizer (a search, not a rounding) has no byte-exact reference here: every weight
    /// must land within one level of its group, and the error must be far below Q4_0's.
    func testQ4_KQuantizesWithinOneLevel() throws {
        let values = Array(try floats("nf4_nested/weights").prefix(4 * 256))
        let blocks = quantize(Q4_K.self, values)
        let restored = dequantize(Q4_K.self, blocks)
        blocks.withUnsafeBytes { raw in
            for block in 0..<4 {
                let bytes = BlockBytes(base: raw.baseAddress! + block * Q4_K.bytesPerBlock)
                for group in 0..<8 {
                    let step = bytes.float16(at: 0) * Float(KQuantScales.scaleAndMinimum(bytes, at: 4, group: group).scale)
                    for lane in 0..<32 {
                        let index = block * 256 + group * 32 + lane
                        XCTAssertLessThanOrEqual(abs(restored[index] - values[index]), step, "weight \(index)")
                    }
                }
            }
        }
        let q4_0 = dequantize(Q4_0.self, quantize(Q4_0.self, values))
        func squaredError(_ approximation: [Float]) -> Float { zip(approximation, values).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
        XCTAssertLessThan(squaredError(restored), 0.8 * squaredError(q4_0))
    }

    func testFourBitFormatsMatchBitsAndBytes() throws {
        for (name, format) in [("nf4", NF4.self), ("fp4", FP4.self)] as [(String, any BitsAndBytes4BitFormat.Type)] {
            try assertMatchesBitsAndBytes(format, name)
        }
    }

    private func assertMatchesBitsAndBytes<Format: BitsAndBytes4BitFormat>(_ format: Format.Type, _ name: String) throws {
        let packed = try bytes("\(name)/packed"), absmax = try floats("\(name)/absmax")
        let blocks = Format.blocks(packed: packed, absmax: absmax)
        assertBitwiseEqual(dequantize(Format.self, blocks), try floats("\(name)/dequantized"), "\(name) dequantize")
        let ours = Format.split(quantize(Format.self, try floats("\(name)/weights")))
        XCTAssertEqual(ours.packed, packed, "\(name) codes")
        assertBitwiseEqual(ours.absmax, absmax, "\(name) absmax")
    }

    func testNestedAbsmaxMatchesBitsAndBytes() throws {
        let codes = try bytes("nf4_nested/absmax_quantized"), scales = try floats("nf4_nested/absmax_scales")
        let offset = try floats("nf4_nested/absmax_offset")[0]
        let stored = try NestedAbsmax(codes: codes, scales: scales, offset: offset)
        assertBitwiseEqual(stored.absmax, try floats("nf4_nested/absmax"), "nested absmax")
        let packed = try bytes("nf4_nested/packed")
        assertBitwiseEqual(dequantize(NF4.self, NF4.blocks(packed: packed, absmax: stored.absmax)),
                           try floats("nf4_nested/dequantized"), "nested NF4 dequantize")
        // Kept compressed in a matrix (one code byte per block, the scales and offset beside).
        let matrix = try QuantizedMatrix(format: .nf4, rows: 30, columns: 576, packed: packed, nestedAbsmax: stored, name: "w")
        assertBitwiseEqual(matrix.dequantized().toArray(), try floats("nf4_nested/dequantized"), "compact nested NF4 matrix")
        XCTAssertEqual(matrix.byteCount, codes.count * 33 + (scales.count + 1) * 4)

        // Fledge's own quantization, given bitsandbytes' offset (its float32 mean), gives its bytes.
        let ours = NF4.split(quantize(NF4.self, try floats("nf4_nested/weights")))
        XCTAssertEqual(ours.packed, packed)
        let compressed = NestedAbsmax(compressing: ours.absmax, offset: offset)
        XCTAssertEqual(compressed, stored)
        XCTAssertEqual(Double(NestedAbsmax(compressing: ours.absmax).offset), Double(offset), accuracy: 1e-7)
    }

    /// A matrix quantized with nested statistics dequantizes to bitsandbytes' nested values (the
    /// offset, a float32 mean, agrees with torch's here; see `NestedAbsmax.init(compressing:offset:)`).
    func testQuantizedMatrixWithNestedAbsmaxMatchesBitsAndBytes() throws {
        let weights = try Self.file.get().tensor("nf4_nested/weights")
        let matrix = try QuantizedMatrix(quantizing: weights, format: .nf4, name: "w", nestedAbsmaxRows: [0..<weights.shape[0]])
        assertBitwiseEqual(matrix.dequantized().toArray(), try floats("nf4_nested/dequantized"), "nested NF4 matrix")
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: weights, format: .q8_0, name: "w", nestedAbsmaxRows: [0..<1])) { error in
            XCTAssertEqual(error as? QuantizationError, .nestedAbsmaxNeedsFourBit(format: "q8_0"))
        }
    }

    func testNestedAbsmaxRejectsMismatchedCounts() {
        XCTAssertThrowsError(try NestedAbsmax(codes: [UInt8](repeating: 0, count: 300), scales: [1], offset: 0)) { error in
            XCTAssertEqual(error as? QuantizationError, .mismatchedNestedAbsmax(codes: 300, scales: 1, expected: 2))
        }
    }

    func testDynamicQuantizationMatchesBitsAndBytes() throws {
        assertBitwiseEqual(DynamicQuantization.code, try floats("dynamic/code"), "dynamic map")
        let (codes, absmax) = DynamicQuantization.quantize(try floats("dynamic/input"), blockSize: 256)
        XCTAssertEqual(codes, try bytes("dynamic/quantized"))
        assertBitwiseEqual(absmax, try floats("dynamic/absmax"), "dynamic absmax")
        assertBitwiseEqual(DynamicQuantization.dequantize(codes: codes, absmax: absmax, blockSize: 256),
                           try floats("dynamic/dequantized"), "dynamic dequantize")
    }

    /// int8 has no reference library: the block is a float32 `max|x| / 127` and round-half-away
    /// levels, so every weight comes back within half a level.
    func testInt8BlocksRoundTripWithinHalfALevel() throws {
        let values = Array(try floats("nf4/weights").prefix(3 * 64))
        let blocks = quantize(Int8Blocks.self, values)
        let restored = dequantize(Int8Blocks.self, blocks)
        for block in 0..<3 {
            let slice = values[(block * 64)..<(block * 64 + 64)]
            let scale = slice.reduce(Float(0)) { max($0, abs($1)) } / 127
            let stored = blocks.withUnsafeBytes { Float(bitPattern: BlockBytes(base: $0.baseAddress! + block * 68).uint32(at: 0)) }
            XCTAssertEqual(stored.bitPattern, scale.bitPattern, "block \(block) scale")
            for index in slice.indices {
                XCTAssertLessThanOrEqual(abs(restored[index] - values[index]), scale / 2 * 1.0001, "weight \(index)")
            }
        }
        XCTAssertEqual(blocks[4], 0, "an all-zero block (bitsandbytes fixture row 0) quantizes to zeros")
    }

    func testFormatNamesParse() throws {
        XCTAssertEqual(try QuantizationFormat(name: "q4_k").blockFormat.name, "q4_k")
        XCTAssertThrowsError(try QuantizationFormat(name: "q3")) { error in
            XCTAssertTrue("\(error)".contains("nf4, fp4, int8, q8_0, q4_0, q4_k"), "\(error)")
        }
    }
}
