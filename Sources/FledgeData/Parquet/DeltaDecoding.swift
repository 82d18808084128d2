/// Parquet's delta encodings: DELTA_BINARY_PACKED integers, and the byte arrays built on them
/// (DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY).
enum DeltaDecoding {
    /// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value count, first value), then
    /// blocks of a minimum delta and bit-packed miniblocks. Reads at most `limit` values.
    static func integers(_ cursor: inout ByteCursor, limit: Int) throws(DataFormatError) -> [Int64] {
        let blockSize = try cursor.count(atMost: 1 << 20, "the delta block size")
        let miniblockCount = try cursor.count(atMost: blockSize, "the delta miniblock count")
        let total = try cursor.count(atMost: limit, "the delta value count")
        var last = try cursor.zigzag()
        guard blockSize > 0, blockSize % 128 == 0, miniblockCount > 0, blockSize % miniblockCount == 0,
              (blockSize / miniblockCount) % 32 == 0 else {
            throw DataFormatError("a delta header with block size \(blockSize) and \(miniblockCount) miniblocks "
                + "(the block must be a multiple of 128, its miniblocks multiples of 32)")
        }
        var values: [Int64] = []
        guard total > 0 else { return values }
        values.reserveCapacity(total)
        values.append(last)
        let perMiniblock = blockSize / miniblockCount
        while values.count < total {
            let minimumDelta = try cursor.zigzag()
            let widths = try cursor.skip(miniblockCount)
            for widthIndex in widths where values.count < total {
                let width = Int(cursor.bytes[widthIndex])
                guard width <= 64 else { throw DataFormatError("a delta miniblock bit width of \(width)") }
                let wanted = min(perMiniblock, total - values.count)
                let size = perMiniblock * width / 8
                guard (wanted * width + 7) / 8 <= cursor.remaining else {
                    throw DataFormatError("a delta miniblock overruns the data at byte \(cursor.position)")
                }
                let start = cursor.position
                for index in 0..<wanted {
                    let packed = BitUnpacking.value(in: cursor.bytes, start: start, bitOffset: index * width, width: width)
                    last = last &+ minimumDelta &+ Int64(bitPattern: packed)
                    values.append(last)
                }
                _ = try cursor.skip(min(size, cursor.remaining))
            }
        }
        return values
    }

    /// DELTA_LENGTH_BYTE_ARRAY: the lengths delta-encoded, then the bytes one after another; gives each
    /// value's byte range.
    static func lengthPrefixedRanges(_ cursor: inout ByteCursor, count: Int) throws(DataFormatError) -> [Range<Int>] {
        let lengths = try integers(&cursor, limit: count)
        guard lengths.count == count else {
            throw DataFormatError("\(lengths.count) delta-encoded lengths for \(count) values")
        }
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(count)
        for length in lengths {
            guard length >= 0, length <= Int64(cursor.remaining) else {
                throw DataFormatError("a byte array of \(length) bytes overruns the page")
            }
            ranges.append(try cursor.skip(Int(length)))
        }
        return ranges
    }

    /// DELTA_BYTE_ARRAY: delta-encoded prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY; each value
    /// is that many leading bytes of the previous value followed by its suffix.
    static func prefixSharingValues(_ cursor: inout ByteCursor, count: Int) throws(DataFormatError) -> [[UInt8]] {
        let prefixes = try integers(&cursor, limit: count)
        guard prefixes.count == count else { throw DataFormatError("\(prefixes.count) prefix lengths for \(count) values") }
        let suffixes = try lengthPrefixedRanges(&cursor, count: count)
        var values: [[UInt8]] = []
        values.reserveCapacity(count)
        var previous: [UInt8] = []
        for (prefix, suffix) in zip(prefixes, suffixes) {
            guard prefix >= 0, prefix <= Int64(previous.count) else {
                throw DataFormatError("a shared prefix of \(prefix) bytes, but the previous value has \(previous.count)")
            }
            var value = Array(previous[0..<Int(prefix)])
            value.append(contentsOf: cursor.bytes[suffix])
            values.append(value)
            previous = value
        }
        return values
    }
}
