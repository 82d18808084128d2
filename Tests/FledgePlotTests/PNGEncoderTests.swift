import Foundation
import XCTest
@testable import FledgePlot

final class PNGEncoderTests: XCTestCase {
    func testChecksumsMatchPublishedCheckValues() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)  // the CRC-32 check value
        XCTAssertEqual(Adler32.checksum(Array("Wikipedia".utf8)), 0x11E6_0398)  // RFC 1950's worked example
        let long = (0..<20000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        XCTAssertEqual(Adler32.checksum(long), DecodedPNG.adler32(long), "the blocked sums must equal per-byte modulo sums")
        XCTAssertEqual(CRC32.checksum(long), DecodedPNG.crc32(long))
    }

    func testDeflateRoundTripsThroughAnIndependentInflater() throws {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let runs = [UInt8](repeating: 0, count: 70000) + [1, 2, 3] + [UInt8](repeating: 9, count: 300)
        let text = Array(String(repeating: "the reward rises, the loss falls; ", count: 400).utf8)
        let farRepeat = noise + [UInt8](repeating: 5, count: 30000) + noise  // a copy at distance 35000 is out of reach
        for (name, input) in [("empty", []), ("one byte", [42]), ("noise", noise), ("runs", runs), ("text", text), ("far repeat", farRepeat)] {
            let compressed = Deflate.compress(input)
            XCTAssertEqual(try Inflate.decompress(compressed), input, name)
            print("  deflate \(name): \(input.count) -> \(compressed.count) bytes")
        }
        XCTAssertLessThan(Deflate.compress(runs).count, runs.count / 100, "runs should compress well")
    }

    func testPNGDecodesToTheImage() throws {
        var image = RGBImage(width: 37, height: 23, background: RGBColor(hex: 0x102030))
        for y in 0..<image.height {
            for x in 0..<image.width where (x * 7 + y * 3) % 5 != 0 {
                image.blend(x, y, Paint(RGBColor(red: UInt8(x * 6), green: UInt8(y * 11), blue: UInt8((x * y) % 256))), coverage: 1)
            }
        }
        let decoded = try DecodedPNG(Array(PNGEncoder.encode(image)))
        XCTAssertEqual(decoded.chunkTypes, ["IHDR", "IDAT", "IEND"])
        XCTAssertEqual(decoded.width, 37)
        XCTAssertEqual(decoded.height, 23)
        XCTAssertEqual(Array(decoded.header[8...]), [8, 2, 0, 0, 0], "8-bit RGB, deflate, adaptive filters, no interlace")
        XCTAssertEqual(decoded.pixels, image.pixels)
    }

    func testEveryFilterIsChosenAndUndone() throws {
        // Rows that favour different filters: flat (none or up), a horizontal ramp (sub),
        // a copy of the row above (up), and a diagonal gradient (average or Paeth).
        var image = RGBImage(width: 64, height: 40)
        for y in 0..<40 {
            for x in 0..<64 {
                let value: UInt8 = switch y / 10 {
                case 0: UInt8(x * 4)
                case 1: UInt8((x * 37 + y * 91) % 256)
                case 2: UInt8(truncatingIfNeeded: (x + y) * 3)
                default: UInt8((x * x + y * 5) % 256)
                }
                image.blend(x, y, Paint(RGBColor(red: value, green: 255 - value, blue: value / 2)), coverage: 1)
            }
        }
        let raw = PNGEncoder.filteredRows(image)
        let used = Set((0..<40).map { raw[$0 * (64 * 3 + 1)] })
        XCTAssertGreaterThan(used.count, 2, "filters used: \(used.sorted())")
        XCTAssertEqual(try DecodedPNG(Array(PNGEncoder.encode(image))).pixels, image.pixels)
    }
}
