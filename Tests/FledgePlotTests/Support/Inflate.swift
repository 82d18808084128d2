/// A test-only DEFLATE decoder (RFC 1951) for the block types the encoder writes (fixed
/// Huffman codes), written after zlib's puff.c so that the encoder is checked by an independent
/// reading of the format.
enum Inflate {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        var reader = BitReader(bytes: input)
        var output: [UInt8] = []
        var last = false
        while !last {
            last = try reader.bits(1) == 1
            let type = try reader.bits(2)
            guard type == 1 else { throw Failure(description: "block type \(type) is not the fixed-Huffman type 1") }
            try inflateBlock(&reader, &output)
        }
        return output
    }

    private static let literalCode = Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
    private static let distanceCode = Huffman(lengths: Array(repeating: 5, count: 30))
    private static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                                        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    private static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]

    private static func inflateBlock(_ reader: inout BitReader, _ output: inout [UInt8]) throws {
        while true {
            let symbol = try literalCode.decode(&reader)
            if symbol < 256 {
                output.append(UInt8(symbol))
            } else if symbol == 256 {
                return
            } else {
                let code = symbol - 257
                guard code < lengthBases.count else { throw Failure(description: "length symbol \(symbol)") }
                let length = lengthBases[code] + (try reader.bits(lengthExtra[code]))
                let distanceSymbol = try distanceCode.decode(&reader)
                let distance = distanceBases[distanceSymbol] + (try reader.bits(distanceExtra[distanceSymbol]))
                guard distance <= output.count, distance <= 32768 else { throw Failure(description: "distance \(distance) too far back") }
                for _ in 0..<length { output.append(output[output.count - distance]) }
            }
        }
    }

    private struct BitReader {
        let bytes: [UInt8]
        var position = 0
        var bitPosition = 0

        mutating func bits(_ count: Int) throws -> Int {
            var value = 0
            for index in 0..<count {
                guard position < bytes.count else { throw Failure(description: "data ends inside a block") }
                value |= Int(bytes[position] >> UInt8(bitPosition) & 1) << index
                bitPosition += 1
                if bitPosition == 8 { bitPosition = 0; position += 1 }
            }
            return value
        }
    }

    /// A canonical Huffman code from code lengths: counts per length and symbols in code order.
    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) {
            for length in lengths { counts[length] += 1 }
            symbols = lengths.indices.filter { lengths[$0] > 0 }.sorted { (lengths[$0], $0) < (lengths[$1], $1) }
        }

        /// Reads one code, most significant bit first.
        func decode(_ reader: inout BitReader) throws -> Int {
            var (code, first, index) = (0, 0, 0)
            for length in 1..<16 {
                code |= try reader.bits(1)
                let count = counts[length]
                if code - first < count { return symbols[index + code - first] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(description: "invalid Huffman code")
        }
    }
}
