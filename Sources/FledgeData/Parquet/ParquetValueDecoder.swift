import FledgeJSON

/// Decodes the values section of a Parquet page (or a dictionary page) into JSON values, for every
/// encoding pyarrow writes: PLAIN, RLE (booleans), RLE_DICTIONARY / PLAIN_DICTIONARY,
/// DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
struct ParquetValueDecoder {
    let kind: ParquetSchema.ValueKind

    /// Appends the `count` values encoded with `encoding` in `cursor`'s bytes to `output`; dictionary
    /// indices look up `dictionary`.
    func decode(_ cursor: inout ByteCursor, encoding: Int, count: Int, dictionary: [JSONValue]?,
                into output: inout [JSONValue]) throws(DataFormatError) {
        switch encoding {
        case 0: try plain(&cursor, count: count, into: &output)
        case 2, 8:
            guard let dictionary else { throw DataFormatError("dictionary-encoded values but the column chunk has no dictionary page") }
            guard count > 0 else { return }
            let width = Int(try cursor.byte())
            var indices: [Int32] = []
            try RLEHybridDecoder.decode(&cursor, width: width, count: count, into: &indices)
            for index in indices {
                guard index >= 0, Int(index) < dictionary.count else {
                    throw DataFormatError("dictionary index \(index) but the dictionary has \(dictionary.count) entries")
                }
                output.append(dictionary[Int(index)])
            }
        case 3:
            guard kind == .boolean else { throw DataFormatError("RLE-encoded values in a non-boolean column") }
            let length = Int(try cursor.littleEndian(width: 4))
            var section = ByteCursor(cursor.bytes, from: cursor.position, to: cursor.position + length)
            _ = try cursor.skip(length)
            var bits: [Int32] = []
            try RLEHybridDecoder.decode(&section, width: 1, count: count, into: &bits)
            output.append(contentsOf: bits.map { .bool($0 != 0) })
        case 5:
            let values = try DeltaDecoding.integers(&cursor, limit: count)
            guard values.count == count else { throw DataFormatError("\(values.count) delta-encoded values for \(count)") }
            for value in values { output.append(try integer(value)) }
        case 6:
            guard kind == .text else { throw DataFormatError("DELTA_LENGTH_BYTE_ARRAY values in a non-byte-array column") }
            for range in try DeltaDecoding.lengthPrefixedRanges(&cursor, count: count) {
                output.append(try Self.text(cursor.bytes[range]))
            }
        case 7:
            guard kind == .text else { throw DataFormatError("DELTA_BYTE_ARRAY values in a non-byte-array column") }
            for value in try DeltaDecoding.prefixSharingValues(&cursor, count: count) {
                output.append(try Self.text(value[...]))
            }
        case 9: try byteStreamSplit(&cursor, count: count, into: &output)
        default: throw DataFormatError("encoding \(encoding) is not one Fledge reads")
        }
    }

    private func plain(_ cursor: inout ByteCursor, count: Int, into output: inout [JSONValue]) throws(DataFormatError) {
        switch kind {
        case .boolean:
            let range = try cursor.skip((count + 7) / 8)
            for index in 0..<count {
                output.append(.bool(cursor.bytes[range.lowerBound + index >> 3] >> (index & 7) & 1 == 1))
            }
        case .int32, .uint32, .float:
            let range = try cursor.skip(count * 4)
            for start in stride(from: range.lowerBound, to: range.upperBound, by: 4) {
                output.append(try fixed(word(cursor.bytes, start, 4)))
            }
        case .int64, .uint64, .double:
            let range = try cursor.skip(count * 8)
            for start in stride(from: range.lowerBound, to: range.upperBound, by: 8) {
                output.append(try fixed(word(cursor.bytes, start, 8)))
            }
        case .text:
            for _ in 0..<count {
                let length = Int(try cursor.littleEndian(width: 4))
                output.append(try Self.text(cursor.bytes[try cursor.skip(length)]))
            }
        }
    }

    /// BYTE_STREAM_SPLIT: byte `b` of value `i` is at `b * count + i`.
    private func byteStreamSplit(_ cursor: inout ByteCursor, count: Int, into output: inout [JSONValue]) throws(DataFormatError) {
        let width: Int
        switch kind {
        case .int32, .uint32, .float: width = 4
        case .int64, .uint64, .double: width = 8
        case .boolean, .text: throw DataFormatError("BYTE_STREAM_SPLIT values in a boolean or byte-array column")
        }
        let start = try cursor.skip(count * width).lowerBound
        let bytes = cursor.bytes
        for index in 0..<count {
            var bits: UInt64 = 0
            for byte in 0..<width { bits |= UInt64(bytes[start + byte * count + index]) << UInt64(8 * byte) }
            output.append(try fixed(bits))
        }
    }

    private func word(_ bytes: [UInt8], _ start: Int, _ width: Int) -> UInt64 {
        var value: UInt64 = 0
        for offset in 0..<width { value |= UInt64(bytes[start + offset]) << UInt64(8 * offset) }
        return value
    }

    /// A fixed-width value from its little-endian bits.
    private func fixed(_ bits: UInt64) throws(DataFormatError) -> JSONValue {
        switch kind {
        case .float: .double(Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
        case .double: .double(Double(bitPattern: bits))
        case .int32, .uint32: try integer(Int64(Int32(truncatingIfNeeded: bits)))
        default: try integer(Int64(bitPattern: bits))
        }
    }

    /// An integer column's value (delta-decoded values wrap as the column's width does).
    private func integer(_ value: Int64) throws(DataFormatError) -> JSONValue {
        switch kind {
        case .int32: return .int(Int(Int32(truncatingIfNeeded: value)))
        case .uint32: return .int(Int(UInt32(truncatingIfNeeded: value)))
        case .int64: return .int(Int(value))
        case .uint64:
            guard value >= 0 else {
                throw DataFormatError("the uint64 value \(UInt64(bitPattern: value)) is above 9223372036854775807, "
                    + "the largest integer Fledge's rows hold")
            }
            return .int(Int(value))
        default: throw DataFormatError("integer-encoded values in a \(kind) column")
        }
    }

    /// A byte array as text: it must be UTF-8 (binary columns are read as text too).
    static func text(_ bytes: ArraySlice<UInt8>) throws(DataFormatError) -> JSONValue {
        let string = bytes.withUnsafeBufferPointer { String(validating: $0, as: UTF8.self) }
        guard let string else {
            let offset = UTF8Check.firstInvalidByte(in: bytes)?.offset ?? 0
            throw DataFormatError("a value is not UTF-8 text (byte \(offset + 1) of the value); Fledge reads binary columns as text")
        }
        return .string(string)
    }
}
