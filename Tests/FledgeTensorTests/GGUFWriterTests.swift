import Foundation
import XCTest
@testable import FledgeTensor

/// GGUFWriter's files pass GGUFFile's validation and read back as written: metadata of every
/// value type, tensors of every writable type (floats converted, blocks quantized as the formats'
/// quantizers do), data aligned to 32 bytes.
final class GGUFWriterTests: XCTestCase {
    private func temporaryFile() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-\(UUID().uuidString).gguf")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testMetadataOfEveryValueTypeReadsBack() throws {
        let entries: [(String, GGUFValue)] = [
            ("general.architecture", .string("llama")), ("u8", .uint8(200)), ("i8", .int8(-100)), ("u16", .uint16(60000)),
            ("i16", .int16(-30000)), ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("u64", .uint64(1 << 63 + 5)),
            ("i64", .int64(-(1 << 62))), ("f32", .float32(0.1)), ("f64", .float64(0.1)), ("bool", .bool(true)), ("string", .string("héllo ✓")),
            ("strings", .array(element: .string, values: [.string("a"), .string(""), .string("ü b")])),
            ("nested", .array(element: .array, values: [.array(element: .int32, values: [.int32(1), .int32(2)]),
                                                        .array(element: .int32, values: [])])),
        ]
        var writer = GGUFWriter()
        for (key, value) in entries { writer.add(key, value) }
        let url = temporaryFile()
        try writer.write(to: url)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.metadataEntries.map(\.key), entries.map(\.0))
        for (key, value) in entries { XCTAssertEqual(file.metadata[key], value, key) }
        XCTAssertTrue(file.tensorInfos.isEmpty)
    }

    /// A float32 tensor of at least `GGUFFile.hugePageCopyBytes` is copied out of the mapping onto
    /// huge pages, 2 MiB at a time with the file's pages released behind: its values are the file's,
    /// on either side of every piece's boundary and in the last, partial piece, and reading it again
    /// (from the released pages) gives them again; a smaller one is still borrowed from the mapping.
    func testLargeFloat32TensorsAreCopiedExactlyAndSmallOnesBorrowed() throws {
        let rows = 4099, columns = 577  // 9.46 MB: four whole 2 MiB pieces and a partial fifth
        XCTAssertGreaterThanOrEqual(rows * columns * 4, GGUFFile.hugePageCopyBytes)
        let values = (0..<rows * columns).map { Float($0 % 1009) * 0.25 - Float($0 % 7) }
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("test"))
        try writer.add("large", Tensor(shape: [rows, columns], values: values), as: try XCTUnwrap(GGMLType.type(named: "f32")))
        try writer.add("small", Tensor(shape: [3, 5], values: Array(values.prefix(15))), as: try XCTUnwrap(GGMLType.type(named: "f32")))
        let url = temporaryFile()
        try writer.write(to: url)
        let file = try GGUFFile(url: url)
        let large = try file.tensor("large")
        XCTAssertFalse(large.isMemoryMapped)
        XCTAssertEqual(large.shape, [rows, columns])
        XCTAssertEqual(large.toArray(), values)
        XCTAssertEqual(try file.tensor("large").toArray(), values, "read again after its pages were released")
        let small = try file.tensor("small")
        XCTAssertTrue(small.isMemoryMapped)
        XCTAssertEqual(small.toArray(), Array(values.prefix(15)))
    }

    func testTensorsOfEveryWritableTypeReadBackAsTheirFormatsRoundThem() throws {
        XCTAssertEqual(GGMLType.writableNames, ["F32", "F16", "Q4_0", "Q8_0", "Q4_K", "BF16"])
        let rows = 3, columns = 512
        let values: [Float] = (0..<rows * columns).map { index in
            let wave: Double = sin(Double(index) * 0.37) * 2
            return Float(wave + Double(index % 7) * 0.01)
        }
        let matrix = Tensor(shape: [rows, columns], values: values)
        let vector = Tensor(shape: [5], values: [1, -2, 0.333, 4e-3, 7])
        var writer = GGUFWriter()
        writer.add("general.architecture", .string("test"))
        for name in GGMLType.writableNames { try writer.add("m.\(name)", matrix, as: try XCTUnwrap(GGMLType.type(named: name))) }
        try writer.add("v", vector, as: try XCTUnwrap(GGMLType.type(named: "f32")))
        let url = temporaryFile()
        try writer.write(to: url)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.dataOffset % GGUFWriter.alignment, 0)
        for name in GGMLType.writableNames {
            let info = try XCTUnwrap(file.info("m.\(name)"))
            XCTAssertEqual(info.shape, [rows, columns], name)
            XCTAssertEqual(info.type.name, name)
            XCTAssertEqual(info.offset % GGUFWriter.alignment, 0, name)
            let expected: [Float]
            switch name {
            case "F32": expected = values
            case "F16":
                var halves = values.map(DType.float16Bits), decoded = values
                halves.withUnsafeMutableBufferPointer { source in
                    decoded.withUnsafeMutableBufferPointer { DType.convertFromFloat16(UnsafeBufferPointer(source), into: $0) }
                }
                expected = decoded
            case "BF16": expected = values.map { Float(bitPattern: UInt32(DType.bfloat16Bits($0)) << 16) }
            case "Q8_0": expected = roundTrip(values, Q8_0.self)
            case "Q4_0": expected = roundTrip(values, Q4_0.self)
            default: expected = roundTrip(values, Q4_K.self)
            }
            XCTAssertEqual(try file.tensor("m.\(name)").toArray(), expected, name)
        }
        XCTAssertEqual(try file.tensor("v").toArray(), vector.toArray())
    }

    func testRefusesRowsThatAreNotWholeBlocksAndUnwritableTypes() throws {
        var writer = GGUFWriter()
        let matrix = Tensor(shape: [2, 96], values: Array(repeating: 1, count: 192))
        XCTAssertThrowsError(try writer.add("w", matrix, as: try XCTUnwrap(GGMLType.type(named: "Q4_K")))) { error in
            XCTAssertTrue("\(error)".contains("'w'") && "\(error)".contains("96") && "\(error)".contains("Q4_K"), "\(error)")
        }
        XCTAssertThrowsError(try writer.add("w", matrix, as: try XCTUnwrap(GGMLType.type(named: "Q5_K")))) { error in
            XCTAssertTrue("\(error)".contains("Q5_K") && "\(error)".contains("Q8_0"), "\(error)")
        }
        let infinite = Tensor(shape: [1, 32], values: [.infinity] + Array(repeating: 0, count: 31))
        XCTAssertThrowsError(try writer.add("inf", infinite, as: try XCTUnwrap(GGMLType.type(named: "Q8_0")))) { error in
            XCTAssertTrue("\(error)".contains("'inf'") && "\(error)".contains("finite"), "\(error)")
        }
    }

    private func roundTrip(_ values: [Float], _ format: any QuantizingBlockFormat.Type) -> [Float] {
        var blocks = [UInt8](repeating: 0, count: values.count / format.valuesPerBlock * format.bytesPerBlock)
        var output = [Float](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in blocks.withUnsafeMutableBytes { format.quantize(source, into: $0) } }
        blocks.withUnsafeBytes { source in output.withUnsafeMutableBufferPointer { format.dequantize(source, into: $0) } }
        return output
    }
}
