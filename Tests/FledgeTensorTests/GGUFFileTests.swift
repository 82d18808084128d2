import Foundation
import XCTest
@testable import FledgeTensor

/// GGUF files written by gguf-py read back as gguf-py reads them: metadata of every value type,
/// and every tensor type Fledge decodes bit for bit equal to `gguf.quants.dequantize`.
final class GGUFFileTests: TemporaryDirectoryTestCase {
    private struct Expected: Decodable {
        struct Entry: Decodable {
            var type: String
            var shape: [Int]
        }
        var tensors: [String: Entry]
        var architecture: String
    }

    private var fixture: URL {
        get throws {
            try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("gguf/blocks.gguf")
        }
    }

    private func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: fixture.deletingPathExtension().appendingPathExtension("expected.json")))
    }

    func testDequantizesEveryTypeBitExactlyLikeGGUFPy() throws {
        let file = try GGUFFile(url: fixture)
        let expected = try expected()
        XCTAssertEqual(Set(expected.tensors.keys), ["f32", "f16", "bf16", "q4_1", "q5_0", "q5_1", "q2_k", "q3_k", "q5_k", "q6_k"])
        for (name, entry) in expected.tensors {
            let info = try XCTUnwrap(file.info(name))
            XCTAssertEqual(info.type.name, entry.type, name)
            XCTAssertEqual(info.shape, entry.shape, name)
            let got = try file.tensor(name)
            XCTAssertEqual(got.shape, entry.shape, name)
            let reference = try file.tensor(name + ".expected").toArray()
            let mismatches = zip(got.toArray(), reference).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(mismatches, 0, "\(name): \(mismatches) of \(reference.count) values differ from gguf-py's")
        }
    }

    func testBlockFormatsDeclareGGUFPySizes() {
        let formats: [(any BlockFormat.Type, Int, Int)] = [(Q4_1.self, 32, 20), (Q5_0.self, 32, 22), (Q5_1.self, 32, 24),
                                                           (Q2_K.self, 256, 84), (Q3_K.self, 256, 110), (Q5_K.self, 256, 176),
                                                           (Q6_K.self, 256, 210)]
        for (format, values, bytes) in formats {
            XCTAssertEqual(format.valuesPerBlock, values, format.name)
            XCTAssertEqual(format.bytesPerBlock, bytes, format.name)
            let type = GGMLType.all.first { $0.name.lowercased() == format.name }
            XCTAssertEqual(type?.valuesPerBlock, values, format.name)
            XCTAssertEqual(type?.bytesPerBlock, bytes, format.name)
        }
    }

    func testReadsMetadataOfEveryValueType() throws {
        let file = try GGUFFile(url: fixture)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(try file.string("general.architecture"), try expected().architecture)
        XCTAssertEqual(file.metadata["test.uint8"], .uint8(200))
        XCTAssertEqual(file.metadata["test.int8"], .int8(-100))
        XCTAssertEqual(file.metadata["test.uint16"], .uint16(60000))
        XCTAssertEqual(file.metadata["test.int16"], .int16(-30000))
        XCTAssertEqual(file.metadata["test.uint32"], .uint32(4_000_000_000))
        XCTAssertEqual(file.metadata["test.int32"], .int32(-2_000_000_000))
        XCTAssertEqual(file.metadata["test.uint64"], .uint64(1 << 63 + 5))
        XCTAssertEqual(file.metadata["test.int64"], .int64(-(1 << 62)))
        XCTAssertEqual(file.metadata["test.float32"], .float32(0.1))
        XCTAssertEqual(file.metadata["test.float64"], .float64(0.1))
        XCTAssertEqual(try file.bool("test.bool"), true)
        XCTAssertEqual(try file.string("test.string"), "héllo ✓")
        XCTAssertEqual(try file.strings("test.strings"), ["a", "", "ü b"])
        XCTAssertEqual(try file.integers("test.int32s"), [1, -2, 3])
        XCTAssertEqual(try file.numbers("test.float32s"), [0.5, -1.25])
        XCTAssertEqual(file.metadata["test.nested"], .array(element: .array, values: [
            .array(element: .int32, values: [.int32(1), .int32(2)]), .array(element: .int32, values: [.int32(3)]),
        ]))
        XCTAssertNil(try file.integer("absent"))
        XCTAssertEqual(try file.integer("test.uint32"), 4_000_000_000)
        XCTAssertNil(file.metadata["test.uint64"]?.integer, "2^63 + 5 does not fit an Int")
        assertFails(try file.integer("test.string"), mentioning: ["test.string", "an integer", "string \"héllo ✓\""])
        assertFails(try file.integer("test.uint64"), mentioning: ["test.uint64", "an integer"])
        assertFails(try file.strings("test.int32s"), mentioning: ["test.int32s", "an array of strings", "array of 3 int32"])
        assertFails(try file.tensor("nope"), mentioning: ["blocks.gguf", "no tensor named 'nope'"])
    }

    func testReadsVersion2() throws {
        var bytes = [UInt8](try Data(contentsOf: fixture))
        bytes[4] = 2
        let url = directory.appendingPathComponent("v2.gguf")
        try Data(bytes).write(to: url)
        let file = try GGUFFile(url: url)
        XCTAssertEqual(file.version, 2)
        XCTAssertEqual(try file.tensor("q6_k").toArray(), try GGUFFile(url: fixture).tensor("q6_k").toArray())
    }

    func testHonoursGeneralAlignmentAndReadsUnalignedHalves() throws {
        var gguf = GGUFBytes(tensors: 2, entries: 1)
        gguf.entry("general.alignment", type: 4) { $0.u32(1) }
        gguf.tensor("a", dimensions: [1], type: 30, offset: 0)
        gguf.tensor("b", dimensions: [2], type: 1, offset: 2)
        // Alignment 1: no padding, and b's float16 values sit at an odd address when the data does.
        gguf.data([0x80, 0x3F, 0x00, 0x3C, 0x00, 0xC0], alignment: 1)
        let file = try GGUFFile(url: write(gguf.bytes))
        XCTAssertEqual(file.alignment, 1)
        XCTAssertEqual(try file.tensor("a").toArray(), [1])
        XCTAssertEqual(try file.tensor("b").toArray(), [1, -2])
    }

    // MARK: malformed files

    private func write(_ bytes: [UInt8], _ name: String = "bad.gguf") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func assertFails<T>(
        _ body: @autoclosure () throws -> T, mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try body()
            XCTFail("expected an error mentioning \(parts)", file: file, line: line)
        } catch let error as GGUFError {
            for part in parts {
                XCTAssertTrue(error.description.contains(part), "'\(error)' does not mention '\(part)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a GGUFError, got \(error)", file: file, line: line)
        }
    }

    /// A valid file with one F32 tensor of 4 values and one metadata entry.
    private func valid(entryType: UInt32 = 8, tensorType: UInt32 = 0, dimensions: [UInt64] = [4], offset: UInt64 = 0,
                       data: [UInt8] = [UInt8](repeating: 0, count: 16)) -> GGUFBytes {
        var gguf = GGUFBytes(tensors: 1, entries: 1)
        gguf.entry("general.architecture", type: entryType) { $0.string("llama") }
        gguf.tensor("w", dimensions: dimensions, type: tensorType, offset: offset)
        gguf.data(data)
        return gguf
    }

    func testEveryTruncationFailsWithAnErrorNamingTheFile() throws {
        let bytes = [UInt8](try Data(contentsOf: fixture))
        let header = try GGUFFile(url: fixture).dataOffset
        for length in Array(stride(from: 0, to: header, by: 7)) + [header - 1] + Array(stride(from: header, to: bytes.count, by: 997)) {
            assertFails(try GGUFFile(url: write(Array(bytes[..<length]))), mentioning: ["bad.gguf"])
        }
    }

    func testRejectsWrongMagicAndVersions() throws {
        assertFails(try GGUFFile(url: write(GGUFBytes(tensors: 0, entries: 0, magic: Array("GGML".utf8)).bytes)),
                    mentioning: ["not a GGUF file", "47 47 4d 4c"])
        for version: UInt32 in [1, 4] {
            assertFails(try GGUFFile(url: write(GGUFBytes(version: version, tensors: 0, entries: 0).bytes)),
                        mentioning: ["version \(version)", "2 and 3"])
        }
        assertFails(try GGUFFile(url: directory), mentioning: ["not a regular file"])
        assertFails(try GGUFFile(url: directory.appendingPathComponent("missing.gguf")), mentioning: ["missing.gguf", "cannot open"])
    }

    func testRejectsMalformedMetadata() throws {
        assertFails(try GGUFFile(url: write(valid(entryType: 13).bytes)), mentioning: ["'general.architecture'", "type code 13"])
        var huge = GGUFBytes(tensors: 0, entries: 1)
        huge.entry("tokenizer.ggml.tokens", type: 9) { $0.u32(8); $0.u64(1 << 40) }
        assertFails(try GGUFFile(url: write(huge.bytes)), mentioning: ["'tokenizer.ggml.tokens'", "array of 1099511627776 string"])
        var longString = GGUFBytes(tensors: 0, entries: 1)
        longString.entry("general.name", type: 8) { $0.u64(UInt64.max) }
        assertFails(try GGUFFile(url: write(longString.bytes)), mentioning: ["metadata 'general.name'", "truncated"])
        var manyEntries = GGUFBytes(tensors: 0, entries: UInt64.max)
        manyEntries.u64(0)
        assertFails(try GGUFFile(url: write(manyEntries.bytes)), mentioning: ["18446744073709551615 metadata entries"])
        var badBool = GGUFBytes(tensors: 0, entries: 1)
        badBool.entry("flag", type: 7) { $0.bytes.append(2) }
        assertFails(try GGUFFile(url: write(badBool.bytes)), mentioning: ["'flag'", "stored as 2"])
        var twice = GGUFBytes(tensors: 0, entries: 2)
        twice.entry("a", type: 0) { $0.bytes.append(1) }
        twice.entry("a", type: 0) { $0.bytes.append(1) }
        assertFails(try GGUFFile(url: write(twice.bytes)), mentioning: ["'a'", "appears twice"])
        var deep = GGUFBytes(tensors: 0, entries: 1)
        deep.entry("deep", type: 9) { gguf in
            for _ in 0..<20 { gguf.u32(9); gguf.u64(1) }
        }
        assertFails(try GGUFFile(url: write(deep.bytes)), mentioning: ["'deep'", "nests arrays"])
        for (type, value) in [(UInt32(8), "string \"x\""), (4, "uint32 3")] {
            var alignment = GGUFBytes(tensors: 0, entries: 1)
            alignment.entry("general.alignment", type: type) { if type == 8 { $0.string("x") } else { $0.u32(3) } }
            assertFails(try GGUFFile(url: write(alignment.bytes)), mentioning: ["'general.alignment'", type == 8 ? value : "power of two"])
        }
    }

    func testRejectsMalformedTensorInfos() throws {
        assertFails(try GGUFFile(url: write(valid(tensorType: 5).bytes)), mentioning: ["tensor 'w'", "type code 5"])
        assertFails(try GGUFFile(url: write(valid(dimensions: []).bytes)), mentioning: ["tensor 'w'", "0 dimensions"])
        assertFails(try GGUFFile(url: write(valid(dimensions: [2, 0]).bytes)), mentioning: ["tensor 'w'", "dimension 1 is 0"])
        assertFails(try GGUFFile(url: write(valid(dimensions: [1 << 40, 1 << 40]).bytes)), mentioning: ["tensor 'w'", "overflows"])
        assertFails(try GGUFFile(url: write(valid(tensorType: 3, dimensions: [16]).bytes)),
                    mentioning: ["tensor 'w'", "rows of 16 values", "32-value blocks of Q4_1"])
        assertFails(try GGUFFile(url: write(valid(offset: 4).bytes)), mentioning: ["tensor 'w'", "offset 4", "alignment 32"])
        assertFails(try GGUFFile(url: write(valid(dimensions: [8]).bytes)), mentioning: ["tensor 'w'", "past the end of the file"])
        assertFails(try GGUFFile(url: write(valid(offset: 1 << 62).bytes)), mentioning: ["tensor 'w'", "past the end"])
        var overlapping = GGUFBytes(tensors: 2, entries: 0)
        overlapping.tensor("a", dimensions: [8], type: 0, offset: 0)
        overlapping.tensor("b", dimensions: [8], type: 0, offset: 0)
        overlapping.data([UInt8](repeating: 0, count: 64))
        assertFails(try GGUFFile(url: write(overlapping.bytes)), mentioning: ["tensor 'b'", "overlaps that of 'a'"])
        var duplicate = GGUFBytes(tensors: 2, entries: 0)
        duplicate.tensor("a", dimensions: [8], type: 0, offset: 0)
        duplicate.tensor("a", dimensions: [8], type: 0, offset: 32)
        duplicate.data([UInt8](repeating: 0, count: 64))
        assertFails(try GGUFFile(url: write(duplicate.bytes)), mentioning: ["tensor 'a'", "appears twice"])
    }

    func testNamesTheTensorAndTypeItCannotDecode() throws {
        let file = try GGUFFile(url: write(valid(tensorType: 16, dimensions: [256], data: [UInt8](repeating: 0, count: 66)).bytes))
        XCTAssertEqual(file.info("w")?.type.name, "IQ2_XXS")
        assertFails(try file.tensor("w"), mentioning: ["bad.gguf", "tensor 'w'", "IQ2_XXS", "cannot read yet", "Q4_1"])
    }
}
