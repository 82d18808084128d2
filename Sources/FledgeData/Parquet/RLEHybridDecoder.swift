/// Parquet's RLE / bit-packed hybrid encoding (levels, dictionary indices, RLE booleans): runs of one
/// repeated value and groups of 8 bit-packed values, each behind a varint header.
enum RLEHybridDecoder {
    /// Decodes `count` values of `width` bits (0…32) from `cursor`'s bytes, appending them to `output`.
    static func decode(_ cursor: inout ByteCursor, width: Int, count: Int, into output: inout [Int32]) throws(DataFormatError) {
        guard (0...32).contains(width) else { throw DataFormatError("a bit width of \(width) (at most 32 is allowed)") }
        let target = output.count + count
        if width == 0 {
            output.append(contentsOf: repeatElement(0, count: count))
            return
        }
        while output.count < target {
            let header = try cursor.varint()
            let wanted = target - output.count
            if header & 1 == 0 {
                let run = header >> 1
                guard run > 0 else { throw DataFormatError("an RLE run of length 0 at byte \(cursor.position)") }
                let value = try cursor.littleEndian(width: (width + 7) / 8)
                guard value < 1 << UInt64(width) else { throw DataFormatError("an RLE value \(value) wider than \(width) bits") }
                output.append(contentsOf: repeatElement(Int32(truncatingIfNeeded: value), count: Int(min(run, UInt64(wanted)))))
            } else {
                let groups = header >> 1
                guard groups > 0, groups <= UInt64(cursor.remaining) else {
                    throw DataFormatError("a bit-packed run of \(groups) groups overruns the data at byte \(cursor.position)")
                }
                let values = min(Int(groups) * 8, wanted)
                // Writers pad the last group; a run cut short after its last wanted value is accepted.
                let available = min(Int(groups) * width, cursor.remaining)
                guard values * width <= available * 8 else {
                    throw DataFormatError("a bit-packed run of \(groups) groups overruns the data at byte \(cursor.position)")
                }
                let start = cursor.position
                for index in 0..<values {
                    output.append(Int32(truncatingIfNeeded: BitUnpacking.value(in: cursor.bytes, start: start,
                                                                               bitOffset: index * width, width: width)))
                }
                _ = try cursor.skip(available)
            }
        }
    }
}
