import Foundation
import XCTest
@testable import FledgeTensor

/// Broken and misused safetensors files: each must fail with an error that names the file
/// and the tensor or field at fault, never crash.
final class SafeTensorsValidationTests: TemporaryDirectoryTestCase {
    /// Writes raw bytes to a new file in the test directory.
    private func file(_ bytes: [UInt8], _ name: String = "bad.safetensors") throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// A file with the given JSON header and `dataLength` bytes of data.
    private func file(header: String, dataLength: Int, headerLength: UInt64? = nil) throws -> URL {
        let json = Array(header.utf8)
        return try file(le64(headerLength ?? UInt64(json.count)) + json + [UInt8](repeating: 0, count: dataLength))
    }

    private func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    private func entry(_ name: String, _ dtype: String = "F32", shape: String = "[2]", offsets: String) -> String {
        "\"\(name)\": {\"dtype\": \"\(dtype)\", \"shape\": \(shape), \"data_offsets\": \(offsets)}"
    }

    /// Asserts that `body` throws a `SafeTensorsError` whose message contains every part.
    private func assertFails<T>(
        _ body: @autoclosure () throws -> T, mentioning parts: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try body()
            XCTFail("expected an error mentioning \(parts)", file: file, line: line)
        } catch let error as SafeTensorsError {
            for part in parts {
                XCTAssertTrue(error.description.contains(part), "'\(error)' does not mention '\(part)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected a SafeTensorsError, got \(error)", file: file, line: line)
        }
    }

    private func open(_ url: URL) throws -> SafeTensorsFile { try SafeTensorsFile(url: url) }

    // MARK: truncation and framing

    func testRejectsFilesShorterThanTheHeaderLength() throws {
        assertFails(try open(file([])), mentioning: ["bad.safetensors", "0 bytes", "truncated"])
        assertFails(try open(file([1, 2, 3, 4, 5])), mentioning: ["5 bytes", "truncated"])
    }

    func testRejectsTruncatedFiles() throws {
        let url = directory.appendingPathComponent("good.safetensors")
        try SafeTensorsWriter.write([(name: "a", tensor: .ones([4])), (name: "last", tensor: .ones([3]))], to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        assertFails(try open(file(Array(bytes.prefix(20)), "cut-header.safetensors")),
                    mentioning: ["cut-header.safetensors", "header length", "truncated"])
        assertFails(try open(file(Array(bytes.dropLast(4)), "cut-data.safetensors")),
                    mentioning: ["cut-data.safetensors", "'last'", "data_offsets", "truncated"])
    }

    func testRejectsAHeaderLengthBeyondTheFile() throws {
        assertFails(try open(file(header: "{}", dataLength: 0, headerLength: 1 << 40)), mentioning: ["1099511627776", "truncated"])
        assertFails(try open(file(header: "{}", dataLength: 0, headerLength: .max)), mentioning: ["header length"])
    }

    func testRejectsHeadersThatAreNotJSONObjects() throws {
        assertFails(try open(file(header: "{\"a\": ", dataLength: 0)), mentioning: ["header", "JSON"])
        assertFails(try open(file(le64(4) + [0x7B, 0xFF, 0xFE, 0x7D])), mentioning: ["header", "UTF-8"])
        assertFails(try open(file(header: "[1, 2]", dataLength: 0)), mentioning: ["header", "not a JSON object"])
        assertFails(try open(file(header: "{\"a\": 3}", dataLength: 0)), mentioning: ["'a'", "dtype, shape and data_offsets"])
        assertFails(try open(file(header: "{\"__metadata__\": {\"k\": 1}}", dataLength: 0)), mentioning: ["__metadata__", "'k'"])
    }

    // MARK: entries

    func testRejectsMissingOrMistypedFields() throws {
        assertFails(try open(file(header: "{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", dataLength: 8)),
                    mentioning: ["'w'", "'dtype'", "missing"])
        assertFails(try open(file(header: "{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 8]}}", dataLength: 8)),
                    mentioning: ["'w'", "'shape'", "missing"])
        assertFails(try open(file(header: "{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", dataLength: 8)),
                    mentioning: ["'w'", "'data_offsets'", "missing"])
        assertFails(try open(file(header: "{\(entry("w", shape: "\"2\"", offsets: "[0, 8]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'shape'", "a string"])
        assertFails(try open(file(header: "{\(entry("w", shape: "[1.5]", offsets: "[0, 8]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'shape'", "not an integer"])
        assertFails(try open(file(header: "{\(entry("w", shape: "[true]", offsets: "[0, 8]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'shape'", "boolean"])
        assertFails(try open(file(header: "{\"w\": {\"dtype\": 4, \"shape\": [2], \"data_offsets\": [0, 8]}}", dataLength: 8)),
                    mentioning: ["'w'", "'dtype'", "integer"])
    }

    func testRejectsNegativeDimensionsAndBadOffsets() throws {
        assertFails(try open(file(header: "{\(entry("w", shape: "[-1, 2]", offsets: "[0, 8]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'shape'", "-1", "negative"])
        assertFails(try open(file(header: "{\(entry("w", offsets: "[0]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'data_offsets'", "[begin, end]"])
        assertFails(try open(file(header: "{\(entry("w", offsets: "[8, 0]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'data_offsets'", "begin <= end"])
        assertFails(try open(file(header: "{\(entry("w", offsets: "[-8, 0]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'data_offsets'", "negative"])
    }

    func testRejectsUnknownDTypes() throws {
        assertFails(try open(file(header: "{\(entry("w", "F8_E4M3", offsets: "[0, 2]"))}", dataLength: 2)),
                    mentioning: ["'w'", "'F8_E4M3'", "BF16"])
    }

    func testRejectsByteLengthsThatDoNotMatchTheShape() throws {
        assertFails(try open(file(header: "{\(entry("w", shape: "[2, 3]", offsets: "[0, 20]"))}", dataLength: 20)),
                    mentioning: ["'w'", "[2, 3]", "24 bytes", "20 bytes"])
        let hugeBytes = "[2305843009213693952, 2]"
        assertFails(try open(file(header: "{\(entry("w", shape: hugeBytes, offsets: "[0, 8]"))}", dataLength: 8)),
                    mentioning: ["'w'", "more bytes than fit"])
    }

    func testShapesWhoseElementCountOverflowsAreRejectedEvenWithAZeroDimension() throws {
        let huge = "[4611686018427387904, 4611686018427387904]"
        assertFails(try open(file(header: "{\(entry("w", shape: huge, offsets: "[0, 8]"))}", dataLength: 8)),
                    mentioning: ["'w'", "'shape'", "multiply past 2^63"])
        // No elements, but strides would overflow when the tensor is read.
        let empty = "[0, 4611686018427387904, 4611686018427387904]"
        assertFails(try open(file(header: "{\(entry("w", shape: empty, offsets: "[0, 0]"))}", dataLength: 0)),
                    mentioning: ["bad.safetensors", "'w'", "'shape'", "multiply past 2^63"])
    }

    func testATensorNameGivenTwiceIsAnError() throws {
        let header = "{\(entry("w", shape: "[1]", offsets: "[0, 4]")), \(entry("w", "I32", shape: "[1]", offsets: "[0, 4]"))}"
        assertFails(try open(file(header: header, dataLength: 4)), mentioning: ["bad.safetensors", "\"w\"", "twice"])
    }

    // MARK: layout of the data section

    func testRejectsOffsetsBeyondTheData() throws {
        assertFails(try open(file(header: "{\(entry("w", offsets: "[0, 8]"))}", dataLength: 4)),
                    mentioning: ["'w'", "byte 8", "4 bytes"])
    }

    func testRejectsOverlappingTensors() throws {
        let header = "{\(entry("a", offsets: "[0, 8]")), \(entry("b", offsets: "[4, 12]"))}"
        assertFails(try open(file(header: header, dataLength: 12)), mentioning: ["'a'", "'b'", "overlap"])
    }

    func testRejectsHolesInTheData() throws {
        let gap = "{\(entry("a", offsets: "[0, 8]")), \(entry("b", offsets: "[12, 20]"))}"
        assertFails(try open(file(header: gap, dataLength: 20)), mentioning: ["8..<12", "after tensor 'a'", "gaps"])
        assertFails(try open(file(header: "{\(entry("a", offsets: "[4, 12]"))}", dataLength: 12)),
                    mentioning: ["0..<4", "before the first tensor"])
        assertFails(try open(file(header: "{\(entry("a", offsets: "[0, 8]"))}", dataLength: 10)),
                    mentioning: ["8..<10", "after tensor 'a'"])
    }

    // MARK: misuse

    func testMissingFilesAndDirectoriesAreNamed() throws {
        let missing = directory.appendingPathComponent("nope.safetensors")
        assertFails(try open(missing), mentioning: ["nope.safetensors", "cannot open"])
        assertFails(try open(directory), mentioning: [directory.path, "not a regular file"])
    }

    func testAskingForAMissingTensorListsSimilarNames() throws {
        let url = directory.appendingPathComponent("names.safetensors")
        let names = ["model.layers.0.mlp.weight", "model.layers.0.attn.weight", "lm_head.weight", "a", "b", "c", "d"]
        try SafeTensorsWriter.write(names.map { (name: $0, tensor: Tensor.ones([1])) }, to: url)
        let file = try SafeTensorsFile(url: url)
        assertFails(try file.tensor("model.layers.0.mlp.wieght"),
                    mentioning: ["names.safetensors", "'model.layers.0.mlp.wieght'", "7 tensors", "'model.layers.0.mlp.weight'"])
        XCTAssertNil(file.info("model.layers.0.mlp.wieght"))
    }

    func testReadingTheWrongKindSaysWhichReaderToUse() throws {
        let url = directory.appendingPathComponent("kinds.safetensors")
        try SafeTensorsWriter.write([
            (name: "ids", entry: .integers([1, 2], shape: [2], .int64)),
            (name: "w", entry: .float(.ones([2]), .bfloat16)),
        ], to: url)
        let file = try SafeTensorsFile(url: url)
        assertFails(try file.tensor("ids"), mentioning: ["'ids'", "I64", "integers(_:)"])
        assertFails(try file.integers("w"), mentioning: ["'w'", "BF16", "tensor(_:)"])
    }

    func testWriterRejectsBadInput() throws {
        let url = directory.appendingPathComponent("out.safetensors")
        assertFails(try SafeTensorsWriter.write([(name: "x", tensor: .ones([1])), (name: "x", tensor: .ones([1]))], to: url),
                    mentioning: ["'x'", "more than once"])
        assertFails(try SafeTensorsWriter.write([(name: "__metadata__", tensor: .ones([1]))], to: url),
                    mentioning: ["'__metadata__'", "reserved"])
        assertFails(try SafeTensorsWriter.write([(name: "x", tensor: .ones([1]))], dtype: .int8, to: url),
                    mentioning: ["'x'", "I8"])
        assertFails(try SafeTensorsWriter.write([(name: "ids", entry: .integers([300], shape: [1], .uint8))], to: url),
                    mentioning: ["'ids'", "300", "U8"])
        assertFails(try SafeTensorsWriter.write([(name: "ids", entry: .integers([1, 2], shape: [3], .int64))], to: url),
                    mentioning: ["'ids'", "shape [3]"])
        assertFails(try SafeTensorsWriter.write([(name: "ids", entry: .integers([1], shape: [1], .float16))], to: url),
                    mentioning: ["'ids'", "F16"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        let nowhere = directory.appendingPathComponent("missing/out.safetensors")
        assertFails(try SafeTensorsWriter.write([(name: "x", tensor: .ones([1]))], to: nowhere),
                    mentioning: ["missing/out.safetensors", "cannot create"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [])
    }
}
