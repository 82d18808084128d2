import FledgeJSON

/// Decodes the columns of one Arrow IPC record batch (its field nodes and buffers, the body compressed
/// or not) into JSON values, in the order of the schema's fields.
struct ArrowRecordBatch {
    private let body: ArraySlice<UInt8>
    private let nodes: [[Int64]]
    private let buffers: [[Int64]]
    private let codec: Codec
    private let dictionaries: [Int64: [JSONValue]]
    private var nextNode = 0
    private var nextBuffer = 0
    /// The number of rows.
    let length: Int

    /// The batch described by a `RecordBatch` table, with its body.
    init(_ table: FlatBufferTable, body: ArraySlice<UInt8>, dictionaries: [Int64: [JSONValue]]) throws(DataFormatError) {
        self.body = body
        self.dictionaries = dictionaries
        let length = try table.int64(0)
        guard length >= 0, length <= Self.maximumLength(body) else { throw DataFormatError("a batch of \(length) rows") }
        self.length = Int(length)
        nodes = try table.int64Structs(1, fieldCount: 2)
        buffers = try table.int64Structs(2, fieldCount: 2)
        if let compression = try table.table(3) {
            switch try compression.uint8(0) {
            case 1: codec = .zstd
            default: throw DataFormatError("LZ4-compressed batches are not supported (Fledge reads uncompressed and ZSTD)")
            }
        } else {
            codec = .uncompressed
        }
    }

    /// The most entries a column may claim: what its buffers could hold, plus room for null columns (which have none).
    private static func maximumLength(_ body: ArraySlice<UInt8>) -> Int64 { Int64(body.count) * 8 + (1 << 24) }

    /// The values of the next column, which has type `field`.
    mutating func column(_ field: ArrowField) throws(DataFormatError) -> [JSONValue] {
        guard nextNode < nodes.count else { throw DataFormatError("the batch has fewer field nodes than the schema needs") }
        let node = nodes[nextNode]
        nextNode += 1
        guard node[0] >= 0, node[0] <= Self.maximumLength(body), node[1] >= 0 else {
            throw DataFormatError("field '\(field.name)' has a node of length \(node[0])")
        }
        let count = Int(node[0])
        if case .null = field.type, field.dictionary == nil { return Array(repeating: .null, count: count) }
        let validity = try buffer()
        guard validity.isEmpty && node[1] == 0 || validity.count * 8 >= count else {
            throw DataFormatError("field '\(field.name)': the validity bitmap holds \(validity.count) bytes for \(count) values")
        }
        var values = try self.values(field, count: count)
        if !validity.isEmpty {
            for index in 0..<count where validity[validity.startIndex + index >> 3] >> (index & 7) & 1 == 0 {
                values[index] = .null
            }
        }
        return values
    }

    private mutating func values(_ field: ArrowField, count: Int) throws(DataFormatError) -> [JSONValue] {
        if let dictionary = field.dictionary {
            guard let entries = dictionaries[dictionary.id] else {
                throw DataFormatError("field '\(field.name)' uses dictionary \(dictionary.id), which no dictionary batch gave")
            }
            return try integers(try buffer(), count: count, bits: dictionary.indexBits, signed: dictionary.indexSigned).map {
                value throws(DataFormatError) in
                guard case .int(let index) = value, index >= 0, index < entries.count else {
                    throw DataFormatError("field '\(field.name)': a dictionary index outside its \(entries.count) entries")
                }
                return entries[index]
            }
        }
        switch field.type {
        case .null: return Array(repeating: .null, count: count)
        case .bool:
            let data = try buffer()
            guard data.count * 8 >= count else { throw DataFormatError("field '\(field.name)': the data buffer is too short") }
            return (0..<count).map { .bool(data[data.startIndex + $0 >> 3] >> ($0 & 7) & 1 == 1) }
        case .int(let bits, let signed): return try integers(try buffer(), count: count, bits: bits, signed: signed)
        case .float32:
            return try fixedWidth(try buffer(), count: count, width: 4) {
                .double(Double(Float(bitPattern: UInt32(truncatingIfNeeded: $0))))
            }
        case .float64: return try fixedWidth(try buffer(), count: count, width: 8) { .double(Double(bitPattern: $0)) }
        case .utf8, .binary, .largeUTF8, .largeBinary:
            let large = if case .largeUTF8 = field.type { true } else if case .largeBinary = field.type { true } else { false }
            let offsets = try self.offsets(count: count, large: large, field: field)
            let data = try buffer()
            return try (0..<count).map { index throws(DataFormatError) in
                let (start, end) = (offsets[index], offsets[index + 1])
                guard end <= data.count else { throw DataFormatError("field '\(field.name)': an offset past the data buffer") }
                do throws(DataFormatError) {
                    return try ParquetValueDecoder.text(data[data.startIndex + start..<data.startIndex + end])
                } catch {
                    throw DataFormatError("field '\(field.name)', row \(index + 1): \(error.message)")
                }
            }
        case .list(let child, let large):
            let offsets = try self.offsets(count: count, large: large, field: field)
            return try slices(of: column(child), offsets: offsets, field: field)
        case .map(let entries):
            let offsets = try self.offsets(count: count, large: false, field: field)
            let pairs = try column(entries).map { entry -> JSONValue in
                if case .object(let pair) = entry { .array(pair.orderedValues) } else { entry }
            }
            return try slices(of: pairs, offsets: offsets, field: field)
        case .fixedSizeList(let child, let size):
            let children = try column(child)
            guard children.count >= count * size else { throw DataFormatError("field '\(field.name)': too few child values") }
            return (0..<count).map { .array(Array(children[$0 * size..<($0 + 1) * size])) }
        case .structure(let fields):
            let template: RowTemplate
            do throws(DataFormatError) { template = try RowTemplate(keys: fields.map(\.name)) } catch {
                throw DataFormatError("struct '\(field.name)': \(error.message)")
            }
            var columns: [[JSONValue]] = []
            for child in fields {
                let values = try column(child)
                guard values.count >= count else { throw DataFormatError("field '\(child.name)' has fewer values than its struct") }
                columns.append(values)
            }
            return (0..<count).map { row in .object(template.object(columns.map { $0[row] })) }
        }
    }

    /// Each list's elements: `children[offsets[i]..<offsets[i + 1]]`.
    private func slices(of children: [JSONValue], offsets: [Int], field: ArrowField) throws(DataFormatError) -> [JSONValue] {
        guard let last = offsets.last, last <= children.count else {
            throw DataFormatError("field '\(field.name)': offsets past the child's values")
        }
        return (0..<offsets.count - 1).map { .array(Array(children[offsets[$0]..<offsets[$0 + 1]])) }
    }

    /// `count + 1` offsets, checked to start at or above 0 and never decrease.
    private mutating func offsets(count: Int, large: Bool, field: ArrowField) throws(DataFormatError) -> [Int] {
        let data = try buffer()
        let width = large ? 8 : 4
        if count == 0 && data.isEmpty { return [0] }
        let raw = try fixedWidth(data, count: count + 1, width: width) { bits -> Int in
            large ? Int(Int64(bitPattern: bits)) : Int(Int32(truncatingIfNeeded: bits))
        }
        guard raw[0] >= 0, zip(raw, raw.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw DataFormatError("field '\(field.name)': offsets that are negative or decrease")
        }
        return raw
    }

    private func integers(_ data: ArraySlice<UInt8>, count: Int, bits: Int, signed: Bool) throws(DataFormatError) -> [JSONValue] {
        try fixedWidth(data, count: count, width: bits / 8) { raw throws(DataFormatError) -> JSONValue in
            let shift = UInt64(64 - bits)
            if signed { return .int(Int(Int64(bitPattern: raw << shift) >> Int64(shift))) }
            guard raw <= UInt64(Int.max) else {
                throw DataFormatError("the uint64 value \(raw) is above 9223372036854775807, the largest integer Fledge's rows hold")
            }
            return .int(Int(raw))
        }
    }

    /// `count` little-endian values of `width` bytes, each transformed.
    private func fixedWidth<T>(_ data: ArraySlice<UInt8>, count: Int, width: Int,
                               _ transform: (UInt64) throws(DataFormatError) -> T) throws(DataFormatError) -> [T] {
        guard data.count / width >= count else {
            throw DataFormatError("a buffer of \(data.count) bytes for \(count) values of \(width) bytes")
        }
        var values: [T] = []
        values.reserveCapacity(count)
        var start = data.startIndex
        for _ in 0..<count {
            var bits: UInt64 = 0
            for offset in 0..<width { bits |= UInt64(data[start + offset]) << UInt64(8 * offset) }
            values.append(try transform(bits))
            start += width
        }
        return values
    }

    /// The next buffer's bytes (decompressed when the body is compressed).
    private mutating func buffer() throws(DataFormatError) -> ArraySlice<UInt8> {
        guard nextBuffer < buffers.count else { throw DataFormatError("the batch has fewer buffers than the schema needs") }
        let (offset, size) = (buffers[nextBuffer][0], buffers[nextBuffer][1])
        nextBuffer += 1
        guard offset >= 0, size >= 0, offset <= Int64(body.count), size <= Int64(body.count) - offset else {
            throw DataFormatError("buffer \(nextBuffer) (\(size) bytes at \(offset)) lies outside the \(body.count)-byte body")
        }
        let bytes = body[body.startIndex + Int(offset)..<body.startIndex + Int(offset + size)]
        guard codec != .uncompressed, !bytes.isEmpty else { return bytes }
        var cursor = ByteCursor(Array(bytes))
        let uncompressed = Int64(bitPattern: try cursor.littleEndian(width: 8))
        if uncompressed == -1 { return bytes.dropFirst(8) }
        guard uncompressed >= 0, uncompressed <= Int64(Self.maximumDecompressedBuffer) else {
            throw DataFormatError("buffer \(nextBuffer) claims \(uncompressed) bytes uncompressed")
        }
        return try codec.decompress(bytes.dropFirst(8), expectedSize: Int(uncompressed))[...]
    }

    /// A cap on one decompressed buffer, against corrupt length prefixes.
    private static let maximumDecompressedBuffer = 1 << 30
}
