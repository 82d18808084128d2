import XCTest
@testable import FledgeTensor

final class DTypeTests: XCTestCase {
    func testNamesAndSizesMatchSafetensors() {
        XCTAssertEqual(DType(rawValue: "BF16"), .bfloat16)
        XCTAssertEqual(DType.allCases.map(\.rawValue), ["F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL"])
        XCTAssertEqual(DType.allCases.map(\.byteSize), [4, 2, 2, 8, 8, 4, 2, 1, 1, 1])
        XCTAssertEqual(DType.allCases.filter(\.isFloatingPoint), [.float32, .float16, .bfloat16, .float64])
        XCTAssertEqual(DType.uint8.integerRange, 0...255)
        XCTAssertNil(DType.float16.integerRange)
    }

    // MARK: float16

    func testEveryFloat16BitPatternRoundTrips() {
        let all = (0...UInt16.max).map { $0 }
        var floats = [Float](repeating: 0, count: all.count)
        var back = [UInt16](repeating: 0, count: all.count)
        all.withUnsafeBufferPointer { source in floats.withUnsafeMutableBufferPointer { DType.convertFromFloat16(source, into: $0) } }
        floats.withUnsafeBufferPointer { source in back.withUnsafeMutableBufferPointer { DType.convertToFloat16(source, into: $0) } }
        XCTAssertEqual(back, all)
        for bits in all {
            let exponent = (bits >> 10) & 0x1F, mantissa = bits & 0x3FF
            XCTAssertEqual(floats[Int(bits)].isNaN, exponent == 0x1F && mantissa != 0, "bits \(bits)")
        }
    }

    func testFloat16ValuesAreExact() {
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x3C00), 1)
        XCTAssertEqual(DType.float(fromFloat16Bits: 0xC000), -2)
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x7BFF), 65504)
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x0001), 0x1p-24)  // smallest subnormal
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x03FF), 0x3FFp-24)  // largest subnormal
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x0400), 0x1p-14)  // smallest normal
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x8000).bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(DType.float(fromFloat16Bits: 0x7C00), .infinity)
        XCTAssertEqual(DType.float(fromFloat16Bits: 0xFC00), -.infinity)
        XCTAssertTrue(DType.float(fromFloat16Bits: 0x7E00).isNaN)
    }

    func testFloat16RoundsToNearestEvenAndOverflowsToInfinity() {
        let cases: [(Float, UInt16)] = [
            (65504, 0x7BFF), (65519, 0x7BFF), (65519.996, 0x7BFF), (65520, 0x7C00), (-65520, 0xFC00),
            (1e10, 0x7C00), (.infinity, 0x7C00), (-.infinity, 0xFC00), (.greatestFiniteMagnitude, 0x7C00),
            (1 + 0x1p-11, 0x3C00), (1 + 0x3p-11, 0x3C02), (1 + 0x1p-11 + 0x1p-20, 0x3C01),  // ties to even
            (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x3p-26, 0x0001), (0x3p-25, 0x0002),  // subnormals
            (-0x1p-25, 0x8000), (0x1p-30, 0x0000), (.leastNonzeroMagnitude, 0x0000),
            (0x7FFp-25, 0x0400), (0x1p-14, 0x0400), (-0.0, 0x8000), (0, 0),
        ]
        for (value, bits) in cases {
            XCTAssertEqual(DType.float16Bits(value), bits, "\(value)")
        }
    }

    func testFloat16KeepsNaN() {
        for pattern: UInt32 in [0x7FC0_0000, 0x7F80_0001, 0x7FFF_FFFF, 0xFF80_0001, 0xFFC0_0000, 0x7F80_2000] {
            let bits = DType.float16Bits(Float(bitPattern: pattern))
            XCTAssertTrue(DType.float(fromFloat16Bits: bits).isNaN, "NaN \(pattern) became \(bits)")
            XCTAssertEqual(bits >> 15, UInt16(pattern >> 31), "sign of NaN \(pattern)")
        }
    }

    #if !((os(macOS) || targetEnvironment(macCatalyst)) && arch(x86_64))
    /// Compares with the platform's `Float16` over every 4093rd float32 bit pattern.
    func testFloat16MatchesTheFloat16TypeOnASweep() {
        var pattern: UInt32 = 0
        var checked = 0
        while true {
            let value = Float(bitPattern: pattern)
            if !value.isNaN {
                XCTAssertEqual(DType.float16Bits(value), Float16(value).bitPattern, "float bits \(pattern)")
                checked += 1
            }
            let (next, overflow) = pattern.addingReportingOverflow(4093)
            if overflow { break }
            pattern = next
        }
        XCTAssertGreaterThan(checked, 1_000_000)
        for bits in 0...UInt16.max where !Float16(bitPattern: bits).isNaN {
            XCTAssertEqual(DType.float(fromFloat16Bits: bits), Float(Float16(bitPattern: bits)))
        }
    }
    #endif

    // MARK: bfloat16

    func testBFloat16RoundsToNearestEven() {
        let cases: [(UInt32, UInt16)] = [
            (0x3F80_8000, 0x3F80), (0x3F81_8000, 0x3F82), (0x3F80_8001, 0x3F81), (0x3F80_7FFF, 0x3F80),
            (0xBF81_8000, 0xBF82), (0x3F80_0000, 0x3F80), (0x0000_8000, 0x0000), (0x0001_8000, 0x0002),
            (0x7F7F_FFFF, 0x7F80), (0x7F7F_7FFF, 0x7F7F), (0xFF7F_FFFF, 0xFF80),  // overflow to ±inf
            (0x7F80_0000, 0x7F80), (0xFF80_0000, 0xFF80), (0x8000_0000, 0x8000),
        ]
        for (pattern, bits) in cases {
            XCTAssertEqual(DType.bfloat16Bits(Float(bitPattern: pattern)), bits, "float bits \(String(pattern, radix: 16))")
        }
    }

    func testBFloat16QuietsNaN() {
        let cases: [(UInt32, UInt16)] = [
            (0x7FC0_0000, 0x7FC0), (0x7F80_0001, 0x7FC0), (0x7F80_FFFF, 0x7FC0), (0xFF80_0001, 0xFFC0),
            (0x7FFF_FFFF, 0x7FFF), (0x7FA0_0000, 0x7FE0),
        ]
        for (pattern, bits) in cases {
            XCTAssertEqual(DType.bfloat16Bits(Float(bitPattern: pattern)), bits, "NaN bits \(String(pattern, radix: 16))")
            XCTAssertTrue(DType.float(fromBFloat16Bits: bits).isNaN)
        }
    }

    func testEveryBFloat16BitPatternRoundTrips() {
        let all = (0...UInt16.max).map { $0 }
        var floats = [Float](repeating: 0, count: all.count)
        var back = [UInt16](repeating: 0, count: all.count)
        all.withUnsafeBufferPointer { source in floats.withUnsafeMutableBufferPointer { DType.convertFromBFloat16(source, into: $0) } }
        floats.withUnsafeBufferPointer { source in back.withUnsafeMutableBufferPointer { DType.convertToBFloat16(source, into: $0) } }
        for bits in all {
            XCTAssertEqual(floats[Int(bits)].bitPattern, UInt32(bits) << 16)
            let isNaN = bits & 0x7F80 == 0x7F80 && bits & 0x7F != 0
            XCTAssertEqual(back[Int(bits)], isNaN ? bits | 0x40 : bits, "bits \(String(bits, radix: 16))")
        }
    }

    func testBulkConversionsMatchTheScalarOnes() {
        let values: [Float] = (0..<1000).map { Float($0 - 500) * 0.37 + 1e-6 } + [.nan, .infinity, 70000, 1e-7]
        var half = [UInt16](repeating: 0, count: values.count)
        var brain = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { source in
            half.withUnsafeMutableBufferPointer { DType.convertToFloat16(source, into: $0) }
            brain.withUnsafeMutableBufferPointer { DType.convertToBFloat16(source, into: $0) }
        }
        XCTAssertEqual(half, values.map(DType.float16Bits))
        XCTAssertEqual(brain, values.map(DType.bfloat16Bits))
    }
}
