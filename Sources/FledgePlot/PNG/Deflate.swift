/// DEFLATE compression (RFC 1951) with LZ77 matches found through hash chains and coded with
/// the fixed Huffman codes, in one final block: simple, and ample for charts, whose filtered
/// rows are mostly runs of zeros.
public enum Deflate {
    /// The compressed form of `input`.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        writer.write(1, count: 1)  // BFINAL: the only block
        writer.write(1, count: 2)  // BTYPE 01: fixed Huffman codes
        var matcher = MatchFinder(input)
        var position = 0
        while position < input.count {
            if let match = matcher.longestMatch(at: position) {
                writeLength(match.length, &writer)
                writeDistance(match.distance, &writer)
                matcher.skip(from: position, count: match.length)
                position += match.length
            } else {
                writeLiteral(Int(input[position]), &writer)
                matcher.insert(position)
                position += 1
            }
        }
        writeLiteral(256, &writer)  // end of block
        return writer.finish()
    }

    /// A literal/length symbol in the fixed code (RFC 1951, 3.2.6).
    private static func writeLiteral(_ symbol: Int, _ writer: inout BitWriter) {
        switch symbol {
        case 0...143: writer.writeHuffman(0x30 + symbol, count: 8)
        case 144...255: writer.writeHuffman(0x190 + symbol - 144, count: 9)
        case 256...279: writer.writeHuffman(symbol - 256, count: 7)
        default: writer.writeHuffman(0xC0 + symbol - 280, count: 8)
        }
    }

    private static func writeLength(_ length: Int, _ writer: inout BitWriter) {
        let code = lengthBases.lastIndex { $0 <= length }!
        writeLiteral(257 + code, &writer)
        writer.write(length - lengthBases[code], count: lengthExtraBits[code])
    }

    private static func writeDistance(_ distance: Int, _ writer: inout BitWriter) {
        let code = distanceBases.lastIndex { $0 <= distance }!
        writer.writeHuffman(code, count: 5)
        writer.write(distance - distanceBases[code], count: distanceExtraBits[code])
    }

    static let lengthBases = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtraBits = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBases = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
                                2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
    static let distanceExtraBits = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
}

/// Earlier occurrences of 3-byte prefixes within DEFLATE's 32 KiB window.
private struct MatchFinder {
    static let window = 32768
    static let minimumLength = 3
    static let maximumLength = 258
    /// How many earlier candidates are compared at most (speed against ratio).
    static let chainLimit = 16
    /// Positions inside longer matches are not indexed, which keeps long runs fast.
    static let indexedMatchLength = 16

    let input: [UInt8]
    /// The latest position of each hash, or −1.
    var head = [Int32](repeating: -1, count: 1 << 15)
    /// The previous position with the same hash, per position modulo the window.
    var previous = [Int32](repeating: -1, count: window)

    init(_ input: [UInt8]) {
        self.input = input
    }

    func hash(_ position: Int) -> Int {
        (Int(input[position]) << 10 ^ Int(input[position + 1]) << 5 ^ Int(input[position + 2])) & 0x7fff
    }

    mutating func insert(_ position: Int) {
        guard position + Self.minimumLength <= input.count else { return }
        let key = hash(position)
        previous[position % Self.window] = head[key]
        head[key] = Int32(position)
    }

    /// Indexes the positions of a match just taken (all of a short one, the first of a long one).
    mutating func skip(from position: Int, count: Int) {
        for offset in 0..<(count <= Self.indexedMatchLength ? count : 1) { insert(position + offset) }
    }

    /// The longest earlier copy of the bytes at `position` (at least 3 long), if any.
    func longestMatch(at position: Int) -> (length: Int, distance: Int)? {
        guard position + Self.minimumLength <= input.count else { return nil }
        let limit = Swift.min(Self.maximumLength, input.count - position)
        var best: (length: Int, distance: Int)?
        var candidate = Int(head[hash(position)])
        var steps = 0
        input.withUnsafeBufferPointer { bytes in
            while candidate >= 0, position - candidate <= Self.window, steps < Self.chainLimit {
                var length = 0
                while length < limit, bytes[candidate + length] == bytes[position + length] { length += 1 }
                if length >= Self.minimumLength, length > (best?.length ?? 0) {
                    best = (length, position - candidate)
                    if length == limit { break }
                }
                let next = Int(previous[candidate % Self.window])
                guard next < candidate else { break }  // the slot was reused by a newer position
                candidate = next
                steps += 1
            }
        }
        return best
    }
}

/// Bits packed into bytes least significant first, as DEFLATE stores them.
private struct BitWriter {
    var bytes: [UInt8] = []
    var buffer: UInt64 = 0
    var bufferedBits = 0

    /// Writes the low `count` bits of `value`, least significant first (extra bits, headers).
    mutating func write(_ value: Int, count: Int) {
        buffer |= UInt64(value) << UInt64(bufferedBits)
        bufferedBits += count
        while bufferedBits >= 8 {
            bytes.append(UInt8(buffer & 0xff))
            buffer >>= 8
            bufferedBits -= 8
        }
    }

    /// Writes a Huffman code of `count` bits, most significant first.
    mutating func writeHuffman(_ code: Int, count: Int) {
        var reversed = 0
        for bit in 0..<count { reversed |= (code >> bit & 1) << (count - 1 - bit) }
        write(reversed, count: count)
    }

    mutating func finish() -> [UInt8] {
        if bufferedBits > 0 { bytes.append(UInt8(buffer & 0xff)) }
        return bytes
    }
}
