/// A value of Apache Thrift's compact protocol, read without the schema that wrote it (Parquet's footer
/// and page headers are Thrift structs; there is no Thrift library on this platform, and the protocol is
/// small).
indirect enum ThriftValue {
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case binary(ArraySlice<UInt8>)
    case list([ThriftValue])
    case structure(ThriftStruct)
    /// A map's entries are read and dropped: Parquet's metadata has none that Fledge uses.
    case map
}

/// A Thrift struct: its fields by id.
struct ThriftStruct {
    var fields: [Int16: ThriftValue] = [:]

    /// The integer field `id`, or nil when absent or of another type.
    func integer(_ id: Int16) -> Int64? {
        if case .integer(let value) = fields[id] { return value }
        return nil
    }

    /// The integer field `id` as an `Int`; throws naming `name` when it is missing.
    func required(_ id: Int16, _ name: String) throws(DataFormatError) -> Int {
        guard let value = integer(id) else { throw DataFormatError("the Thrift field \(name) is missing") }
        return Int(value)
    }

    func bool(_ id: Int16) -> Bool? {
        if case .bool(let value) = fields[id] { return value }
        return nil
    }

    func string(_ id: Int16) -> String? {
        if case .binary(let bytes) = fields[id] { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    func structure(_ id: Int16) -> ThriftStruct? {
        if case .structure(let value) = fields[id] { return value }
        return nil
    }

    func list(_ id: Int16) -> [ThriftValue]? {
        if case .list(let value) = fields[id] { return value }
        return nil
    }
}

/// Reads Thrift compact-protocol structs from bytes, with every length and nesting depth checked.
struct ThriftCompactReader {
    private var cursor: ByteCursor
    private static let maximumDepth = 64

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        cursor = ByteCursor(bytes, from: start, to: end)
    }

    /// The offset of the next byte to read.
    var position: Int { cursor.position }

    /// Reads one struct (up to its stop field).
    mutating func readStruct() throws(DataFormatError) -> ThriftStruct {
        try readStruct(depth: 0)
    }

    private mutating func readStruct(depth: Int) throws(DataFormatError) -> ThriftStruct {
        guard depth < Self.maximumDepth else { throw DataFormatError("Thrift structs nested more than \(Self.maximumDepth) deep") }
        var result = ThriftStruct()
        var fieldID: Int16 = 0
        while true {
            let header = try cursor.byte()
            let type = header & 0x0F
            if type == 0 { return result }
            let delta = Int16(header >> 4)
            if delta == 0 {
                let id = try cursor.zigzag()
                guard let narrow = Int16(exactly: id) else { throw DataFormatError("Thrift field id \(id) out of range") }
                fieldID = narrow
            } else {
                let (sum, overflow) = fieldID.addingReportingOverflow(delta)
                guard !overflow else { throw DataFormatError("Thrift field id out of range") }
                fieldID = sum
            }
            result.fields[fieldID] = try value(type: type, depth: depth)
        }
    }

    private mutating func value(type: UInt8, depth: Int) throws(DataFormatError) -> ThriftValue {
        switch type {
        case 1: return .bool(true)
        case 2: return .bool(false)
        case 3: return .integer(Int64(Int8(bitPattern: try cursor.byte())))
        case 4, 5, 6: return .integer(try cursor.zigzag())
        case 7: return .double(Double(bitPattern: try cursor.littleEndian(width: 8)))
        case 8: return .binary(cursor.bytes[try cursor.skip(try cursor.count(atMost: cursor.remaining, "a Thrift string length"))])
        case 9, 10:
            let header = try cursor.byte()
            let elementType = header & 0x0F
            let count = header >> 4 == 15 ? try cursor.count(atMost: cursor.remaining, "a Thrift list length") : Int(header >> 4)
            var elements: [ThriftValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try element(type: elementType, depth: depth)) }
            return .list(elements)
        case 11:
            let count = try cursor.count(atMost: cursor.remaining, "a Thrift map size")
            guard count > 0 else { return .map }
            let types = try cursor.byte()
            for _ in 0..<count {
                _ = try element(type: types >> 4, depth: depth)
                _ = try element(type: types & 0x0F, depth: depth)
            }
            return .map
        case 12: return .structure(try readStruct(depth: depth + 1))
        default: throw DataFormatError("unknown Thrift type \(type) at byte \(cursor.position)")
        }
    }

    /// An element of a list or map: as a field's value, except that a boolean is a byte of its own.
    private mutating func element(type: UInt8, depth: Int) throws(DataFormatError) -> ThriftValue {
        if type == 1 || type == 2 { return .bool(try cursor.byte() == 1) }
        return try value(type: type, depth: depth + 1)
    }
}
