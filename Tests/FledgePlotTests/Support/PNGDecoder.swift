@testable import FledgePlot

/// A test-only PNG reader for 8-bit RGB images: checks the signature, every chunk's CRC, the
/// zlib header and Adler-32, inflates and undoes the row filters.
struct DecodedPNG {
    let width: Int
    let height: Int
    let header: [UInt8]
    let chunkTypes: [String]
    let pixels: [UInt8]

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(_ data: [UInt8]) throws {
        guard data.prefix(8).elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Failure(description: "signature") }
        var offset = 8
        var types: [String] = []
        var header: [UInt8] = []
        var compressed: [UInt8] = []
        while offset < data.count {
            let length = Int(Self.bigEndian(data, offset))
            let type = Array(data[(offset + 4)..<(offset + 8)])
            let body = Array(data[(offset + 8)..<(offset + 8 + length)])
            let storedCRC = Self.bigEndian(data, offset + 8 + length)
            guard storedCRC == Self.crc32(type + body) else { throw Failure(description: "CRC of \(String(decoding: type, as: UTF8.self))") }
            types.append(String(decoding: type, as: UTF8.self))
            if types.last == "IHDR" { header = body }
            if types.last == "IDAT" { compressed += body }
            offset += 12 + length
        }
        guard header.count == 13 else { throw Failure(description: "IHDR length \(header.count)") }
        width = Int(Self.bigEndian(header, 0))
        height = Int(Self.bigEndian(header, 4))
        self.header = header
        chunkTypes = types
        guard (Int(compressed[0]) * 256 + Int(compressed[1])) % 31 == 0, compressed[0] & 0x0f == 8 else { throw Failure(description: "zlib header") }
        let raw = try Inflate.decompress(Array(compressed[2..<(compressed.count - 4)]))
        guard Self.bigEndian(compressed, compressed.count - 4) == Self.adler32(raw) else { throw Failure(description: "Adler-32") }
        let stride = width * 3
        guard raw.count == (stride + 1) * height else { throw Failure(description: "inflated \(raw.count) bytes, expected \((stride + 1) * height)") }
        var pixels = [UInt8](repeating: 0, count: stride * height)
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for index in 0..<stride {
                let a = index >= 3 ? Int(pixels[row * stride + index - 3]) : 0
                let b = row > 0 ? Int(pixels[(row - 1) * stride + index]) : 0
                let c = index >= 3 && row > 0 ? Int(pixels[(row - 1) * stride + index - 3]) : 0
                let prediction: Int
                switch filter {
                case 0: prediction = 0
                case 1: prediction = a
                case 2: prediction = b
                case 3: prediction = (a + b) / 2
                case 4:
                    let p = a + b - c
                    let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                    prediction = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Failure(description: "filter type \(filter)")
                }
                pixels[row * stride + index] = UInt8((Int(raw[row * (stride + 1) + 1 + index]) + prediction) & 0xff)
            }
        }
        self.pixels = pixels
    }

    private static func bigEndian(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// Bitwise CRC-32 (no table), independent of the encoder's.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// Adler-32 with a modulo per byte, independent of the encoder's.
    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
