/// Reads a byte array front to back within `position..<end`: single bytes, runs, little-endian
/// integers and ULEB128 varints, each checked against the end.
struct ByteCursor {
    let bytes: [UInt8]
    /// The offset of the next byte to read.
    var position: Int
    /// One past the last byte this cursor may read.
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.end = max(0, min(end ?? bytes.count, bytes.count))
        position = min(max(0, start), self.end)
    }

    /// Bytes left to read.
    var remaining: Int { end - position }

    mutating func byte() throws(DataFormatError) -> UInt8 {
        guard position < end else { throw DataFormatError("the data ends early (at byte \(position))") }
        defer { position += 1 }
        return bytes[position]
    }

    /// The next `count` bytes' range, skipping them.
    mutating func skip(_ count: Int) throws(DataFormatError) -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw DataFormatError("\(count) bytes wanted at byte \(position), but only \(remaining) are left")
        }
        defer { position += count }
        return position..<position + count
    }

    /// A little-endian unsigned integer of `width` bytes (at most 8).
    mutating func littleEndian(width: Int) throws(DataFormatError) -> UInt64 {
        let range = try skip(width)
        var value: UInt64 = 0
        for (shift, index) in range.enumerated() { value |= UInt64(bytes[index]) << (8 * UInt64(shift)) }
        return value
    }

    /// An unsigned LEB128 varint.
    mutating func varint() throws(DataFormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let next = try byte()
            guard shift < 64 else { throw DataFormatError("a varint longer than 10 bytes at byte \(position)") }
            result |= UInt64(next & 0x7F) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A zigzag-encoded signed varint.
    mutating func zigzag() throws(DataFormatError) -> Int64 {
        let value = try varint()
        return Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
    }

    /// A varint that must fit a non-negative `Int` no larger than `limit`.
    mutating func count(atMost limit: Int, _ what: String) throws(DataFormatError) -> Int {
        let value = try varint()
        guard value <= UInt64(max(0, limit)) else { throw DataFormatError("\(what) is \(value), more than the \(limit) possible here") }
        return Int(value)
    }
}
