import Foundation
import XCTest
@testable import FledgeTensor

/// Writing and reading safetensors files, and reading files written by Python's
/// `safetensors` library (fixtures from Scripts/reference/make_safetensors_fixtures.py).
final class SafeTensorsTests: TemporaryDirectoryTestCase {
    private func randomTensor(_ shape: [Int], seed: Int) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor(shape: shape, values: (0..<count).map { Float(sin(Double($0 * 7 + seed)) * 3) })
    }

    // MARK: round trips

    func testRoundTripInEveryFloatDType() throws {
        let tensors = [
            (name: "a.weight", tensor: randomTensor([3, 5], seed: 1)),
            (name: "b", tensor: randomTensor([2, 3, 4], seed: 2)),
            (name: "c", tensor: randomTensor([7], seed: 3)),
            (name: "scalar", tensor: Tensor.scalar(-1.5)),
            (name: "empty", tensor: Tensor.zeros([0, 4])),
        ]
        let rounding: [DType: (Float) -> Float] = [
            .float32: { $0 },
            .float16: { DType.float(fromFloat16Bits: DType.float16Bits($0)) },
            .bfloat16: { DType.float(fromBFloat16Bits: DType.bfloat16Bits($0)) },
            .float64: { $0 },
        ]
        for (dtype, round) in rounding {
            let url = directory.appendingPathComponent("\(dtype.rawValue).safetensors")
            try SafeTensorsWriter.write(tensors, dtype: dtype, metadata: ["format": "pt"], to: url)
            let file = try SafeTensorsFile(url: url)
            XCTAssertEqual(file.names, ["a.weight", "b", "c", "empty", "scalar"])
            XCTAssertEqual(file.metadata, ["format": "pt"])
            for (name, tensor) in tensors {
                let loaded = try file.tensor(name)
                XCTAssertEqual(loaded.shape, tensor.shape, "\(dtype) \(name)")
                XCTAssertEqual(loaded.toArray(), tensor.toArray().map(round), "\(dtype) \(name)")
                XCTAssertEqual(file.info(name)?.dtype, dtype)
            }
        }
    }

    func testWritesIntegersAndMixedDTypesInTheGivenOrder() throws {
        let url = directory.appendingPathComponent("mixed.safetensors")
        let weight = randomTensor([2, 3], seed: 4)
        try SafeTensorsWriter.write([
            (name: "ids", entry: .integers([1, -2, 3], shape: [3], .int64)),
            (name: "mask", entry: .integers([1, 0, 1], shape: [3], .bool)),
            (name: "unaligned", entry: .float(weight, .float32)),  // starts at byte 27
            (name: "half", entry: .float(weight, .float16)),
            (name: "bytes", entry: .integers([0, 255], shape: [1, 2], .uint8)),
            (name: "small", entry: .integers([-128, 127, 0, 5], shape: [2, 2], .int8)),
            (name: "i16", entry: .integers([-32768], shape: [1], .int16)),
            (name: "i32", entry: .integers([Int(Int32.max)], shape: [], .int32)),
        ], to: url)
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.info("ids")?.byteRange, 0..<24)
        XCTAssertEqual(file.info("mask")?.byteRange, 24..<27)
        XCTAssertEqual(file.info("unaligned")?.byteRange, 27..<51)
        XCTAssertEqual(try file.integers("ids"), [1, -2, 3])
        XCTAssertEqual(try file.integers("mask"), [1, 0, 1])
        XCTAssertEqual(try file.tensor("unaligned").toArray(), weight.toArray())
        XCTAssertEqual(try file.tensor("half").shape, [2, 3])
        XCTAssertEqual(try file.integers("bytes"), [0, 255])
        XCTAssertEqual(try file.integers("small"), [-128, 127, 0, 5])
        XCTAssertEqual(try file.integers("i16"), [-32768])
        XCTAssertEqual(try file.integers("i32"), [Int(Int32.max)])
        XCTAssertTrue(file.metadata.isEmpty)
    }

    func testHeaderIsPaddedWithSpacesToAMultipleOfEight() throws {
        let url = directory.appendingPathComponent("padded.safetensors")
        try SafeTensorsWriter.write([(name: "x\"\n", tensor: Tensor.ones([3]))], metadata: ["k": "v\\"], to: url)
        let bytes = try Data(contentsOf: url)
        let length = Int(bytes.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual(length % 8, 0)
        XCTAssertEqual(bytes.count, 8 + length + 12)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"k\":\"v\\\\\"}"), header)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces).last, "}")
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.names, ["x\"\n"])
        XCTAssertEqual(file.metadata, ["k": "v\\"])
    }

    // MARK: memory mapping

    func testFloat32TensorsOutliveTheFileAndNeverWriteToIt() throws {
        let url = directory.appendingPathComponent("mapped.safetensors")
        try SafeTensorsWriter.write([(name: "w", tensor: Tensor(shape: [2, 2], values: [1, 2, 3, 4]))], to: url)
        var file: SafeTensorsFile? = try SafeTensorsFile(url: url)
        let tensor = try file!.tensor("w")
        file = nil
        XCTAssertEqual(tensor.toArray(), [1, 2, 3, 4])
        tensor.withUnsafeMutableElements { $0[0] = 100 }
        XCTAssertEqual(tensor.toArray(), [100, 2, 3, 4])
        XCTAssertEqual(try SafeTensorsFile(url: url).tensor("w").toArray(), [1, 2, 3, 4])
    }

    // MARK: files written by Python

    private struct Expected: Decodable {
        struct Entry: Decodable {
            var dtype: String
            var shape: [Int]
            var bits: [UInt32]?
            var values: [Int]?
            var source_bits: [UInt32]?
        }
        var metadata: [String: String]
        var tensors: [String: Entry]
    }

    private func fixtures() throws -> (SafeTensorsFile, Expected) {
        let folder = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("safetensors")
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        return (try SafeTensorsFile(url: folder.appendingPathComponent("mixed.safetensors")), expected)
    }

    func testReadsEveryTensorWrittenByPython() throws {
        let (file, expected) = try fixtures()
        XCTAssertEqual(file.metadata, expected.metadata)
        XCTAssertEqual(file.names, expected.tensors.keys.sorted())
        let dtypes = ["float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64",
                      "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"]
        for (name, entry) in expected.tensors {
            let info = try XCTUnwrap(file.info(name))
            XCTAssertEqual(info.dtype.rawValue, dtypes[entry.dtype], name)
            XCTAssertEqual(info.shape, entry.shape, name)
            if let bits = entry.bits {
                let tensor = try file.tensor(name)
                XCTAssertEqual(tensor.shape, entry.shape, name)
                XCTAssertEqual(tensor.toArray().map(\.bitPattern), bits, name)
            } else {
                XCTAssertEqual(try file.integers(name), entry.values, name)
            }
        }
    }

    func testRoundsLikePyTorch() throws {
        let (file, expected) = try fixtures()
        for (name, convert) in [("f16", DType.float16Bits), ("bf16", DType.bfloat16Bits)] {
            let entry = try XCTUnwrap(expected.tensors[name])
            let source = try XCTUnwrap(entry.source_bits).map { Float(bitPattern: $0) }
            let stored = try file.tensor(name).toArray()
            XCTAssertEqual(source.count, stored.count)
            for (value, loaded) in zip(source, stored) {
                // PyTorch's vectorised bfloat16 path writes NaN as 0xFFFF, its scalar one as 0x7FC0.
                if value.isNaN { XCTAssertTrue(loaded.isNaN, name); continue }
                XCTAssertEqual(convert(value), convert(loaded), "\(name): \(value)")
            }
        }
    }

    func testPythonFileRoundTripsThroughTheWriter() throws {
        let (file, _) = try fixtures()
        let url = directory.appendingPathComponent("again.safetensors")
        try SafeTensorsWriter.write([(name: "bf16", tensor: try file.tensor("bf16"))], dtype: .bfloat16, to: url)
        let again = try SafeTensorsFile(url: url)
        XCTAssertEqual(try again.tensor("bf16").toArray().map(\.bitPattern), try file.tensor("bf16").toArray().map(\.bitPattern))
    }
}
