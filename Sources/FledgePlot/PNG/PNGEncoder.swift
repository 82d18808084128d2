import Foundation

/// Writes an `RGBImage` as a PNG file (8-bit truecolor, not interlaced): each row filtered
/// with whichever of PNG's five filters leaves the smallest residuals, then zlib-compressed.
public enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file of `image`.
    public static func encode(_ image: RGBImage) -> Data {
        var header: [UInt8] = []
        header += bigEndian(UInt32(image.width))
        header += bigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, color type 2 (RGB), deflate, adaptive filtering, no interlace
        let raw = filteredRows(image)
        // zlib: CMF 0x78 (deflate, 32 KiB window), FLG 0x01 (makes CMF·256 + FLG a multiple of 31).
        let zlib = [0x78, 0x01] + Deflate.compress(raw) + bigEndian(Adler32.checksum(raw))
        var file = Data(signature)
        file += chunk("IHDR", header)
        file += chunk("IDAT", zlib)
        file += chunk("IEND", [])
        return file
    }

    /// Each row as a filter-type byte and the filtered bytes, with the filter whose residuals,
    /// read as signed bytes, have the smallest sum (the usual heuristic).
    static func filteredRows(_ image: RGBImage) -> [UInt8] {
        let stride = image.width * 3
        var output = [UInt8](repeating: 0, count: (stride + 1) * image.height)
        var candidate = [UInt8](repeating: 0, count: stride)
        let zeros = [UInt8](repeating: 0, count: stride)
        image.pixels.withUnsafeBufferPointer { pixels in
            for row in 0..<image.height {
                let current = UnsafeBufferPointer(rebasing: pixels[(row * stride)..<((row + 1) * stride)])
                zeros.withUnsafeBufferPointer { zeros in
                    let above = row == 0 ? zeros : UnsafeBufferPointer(rebasing: pixels[((row - 1) * stride)..<(row * stride)])
                    var bestCost = Int.max
                    for filter in PNGFilter.allCases {
                        let cost = candidate.withUnsafeMutableBufferPointer { filter.apply(current, above: above, bytesPerPixel: 3, into: $0) }
                        guard cost < bestCost else { continue }
                        bestCost = cost
                        let start = row * (stride + 1)
                        output[start] = filter.rawValue
                        output.replaceSubrange((start + 1)...(start + stride), with: candidate)
                    }
                }
            }
        }
        return output
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> Data {
        let typeBytes = Array(type.utf8)
        return Data(bigEndian(UInt32(data.count)) + typeBytes + data + bigEndian(CRC32.checksum(typeBytes + data)))
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
}

/// PNG's row filters: each byte is stored minus a prediction from its left (`a`), upper (`b`)
/// and upper-left (`c`) neighbours.
enum PNGFilter: UInt8, CaseIterable {
    case none = 0, sub, up, average, paeth

    /// The prediction of a byte from its neighbours.
    func predict(left a: UInt8, up b: UInt8, upLeft c: UInt8) -> UInt8 {
        switch self {
        case .none: 0
        case .sub: a
        case .up: b
        case .average: UInt8((Int(a) + Int(b)) / 2)
        case .paeth: Self.paethPredictor(a, b, c)
        }
    }

    /// Writes `row` filtered against the row `above` (zeros for the first row) to `output`, and
    /// returns the sum of the residuals' magnitudes as signed bytes.
    func apply(_ row: UnsafeBufferPointer<UInt8>, above: UnsafeBufferPointer<UInt8>, bytesPerPixel: Int,
               into output: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var cost = 0
        for index in 0..<row.count {
            let a = index >= bytesPerPixel ? row[index - bytesPerPixel] : 0
            let c = index >= bytesPerPixel ? above[index - bytesPerPixel] : 0
            let residual = row[index] &- predict(left: a, up: above[index], upLeft: c)
            output[index] = residual
            cost += Int(Int8(bitPattern: residual).magnitude)
        }
        return cost
    }

    /// The neighbour nearest to a + b − c (PNG specification, 9.4).
    static func paethPredictor(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
        let estimate = Int(a) + Int(b) - Int(c)
        let (pa, pb, pc) = (Swift.abs(estimate - Int(a)), Swift.abs(estimate - Int(b)), Swift.abs(estimate - Int(c)))
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }
}
