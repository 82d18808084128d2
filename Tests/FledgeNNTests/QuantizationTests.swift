import Foundation
import XCTest
@testable import FledgeNN

/// The dynamic quantization maps and blockwise quantization against bitsandbytes.
final class QuantizationTests: XCTestCase {
    /// bitsandbytes builds its maps with PyTorch's vectorised float32 linspace, whose rounding
    /// depends on the CPU's vector width; Fledge's maps agree to 2 ulp (2.4e-7 relative).
    func testDynamicMapsMatchBitsandbytes() throws {
        for (name, map) in [("signed", DynamicQuantizationMap.signed), ("unsigned", .unsigned)] {
            let expected = try OptimizerFixture.tensor("qmap/\(name)").toArray()
            let differing = zip(map.codes, expected).filter { $0 != $1 }.count
            let error = zip(map.codes, expected).map { abs(Double($0) - Double($1)) / max(abs(Double($1)), 1e-30) }.max()!
            print(String(format: "  %@ map: %d of 256 codes differ, max rel error %.2e", name, differing, error))
            XCTAssertLessThanOrEqual(error, 2.4e-7, name)
            XCTAssertEqual(map.codes.first, expected.first)
            XCTAssertEqual(map.codes.last, 1)
            XCTAssertTrue(map.codes.contains(0))
        }
    }

    /// Codes and block scales exactly as bitsandbytes' nearest-code quantizer gives them (with
    /// bitsandbytes' own map), including an all-zero block and a partial last block.
    func testBlockwiseQuantizationMatchesBitsandbytes() throws {
        for name in ["signed", "unsigned"] {
            let map = DynamicQuantizationMap(codes: try OptimizerFixture.tensor("qmap/\(name)").toArray())
            let input = try OptimizerFixture.tensor("quant/\(name)/input").toArray()
            let quantized = quantize(input, map)
            let expectedCodes = try OptimizerFixture.integers("quant/\(name)/codes")
            XCTAssertEqual(quantized.codes.map(Int.init), expectedCodes, name)
            XCTAssertEqual(quantized.absmax, try OptimizerFixture.tensor("quant/\(name)/absmax").toArray(), name)

            let restored = dequantize(quantized)
            let expected = expectedCodes.enumerated().map { index, code in map.codes[code] * quantized.absmax[index / 256] }
            XCTAssertEqual(restored, expected)
            XCTAssertEqual(quantize(restored, map).codes, quantized.codes, "\(name): quantizing dequantized values is stable")
        }
    }

    /// The bucketed lookup finds the same code as counting midpoints below the value, for values
    /// at, between and halfway between codes, tiny values, zeros of both signs and random values.
    func testNearestCodeLookupMatchesExhaustiveSearch() {
        var generator = SeededGenerator(seed: 7)
        for map in [DynamicQuantizationMap.signed, .unsigned] {
            let midpoints = zip(map.codes, map.codes.dropFirst()).map { ($0 + $1) / 2 }
            var values: [Float] = map.codes + midpoints + midpoints.map(\.nextUp) + midpoints.map(\.nextDown)
            values += [0, -0, 1e-30, -1e-30, 1e-8, -1e-8, 1, -1, .leastNonzeroMagnitude]
            values += (0..<20_000).map { _ in
                let magnitude = Float(Foundation.pow(10, Double(-8 * generator.nextUnitFloat())))
                return generator.nextUnitFloat() < 0.5 ? -magnitude : magnitude
            }
            for value in values {
                XCTAssertEqual(Int(map.index(of: value)), midpoints.filter { $0 < value }.count, "value \(value)")
            }
        }
    }

    private func quantize(_ values: [Float], _ map: DynamicQuantizationMap) -> BlockwiseQuantized {
        let state = BlockwiseQuantized(count: values.count, map: map)
        values.withUnsafeBufferPointer { values in
            state.withBlocks { blocks in
                for block in 0..<blocks.absmax.count {
                    blocks.quantize(block: block, from: values.baseAddress! + blocks.range(ofBlock: block).lowerBound)
                }
            }
        }
        return state
    }

    private func dequantize(_ state: BlockwiseQuantized) -> [Float] {
        var values = [Float](repeating: .nan, count: state.count)
        values.withUnsafeMutableBufferPointer { values in
            state.withBlocks { blocks in
                for block in 0..<blocks.absmax.count {
                    blocks.dequantize(block: block, into: values.baseAddress! + blocks.range(ofBlock: block).lowerBound)
                }
            }
        }
        return values
    }
}
