/// Reads the metadata entries of a GGUF header: each a key, a type code and a value, arrays of
/// any element type included. Sizes are checked against the bytes left before anything is
/// allocated, and arrays nest at most `maximumNesting` deep.
enum GGUFMetadataReader {
    /// Deeper than any writer nests (gguf-py writes arrays of arrays at most one level down).
    static let maximumNesting = 8

    /// The `count` entries at the cursor, by key; a repeated key is an error.
    static func entries(_ count: UInt64, from cursor: inout GGUFCursor) throws(GGUFError) -> [(key: String, value: GGUFValue)] {
        // The smallest entry is a key of length 0, a type code and a one-byte value: 13 bytes.
        guard count <= UInt64(cursor.remaining / 13) else {
            throw .invalidMetadata(file: cursor.file, key: "(header)",
                                   problem: "the header counts \(count) metadata entries, more than the file's \(cursor.bytes.count) bytes can hold")
        }
        var entries: [(key: String, value: GGUFValue)] = []
        var seen: Set<String> = []
        for index in 0..<Int(count) {
            let key = try cursor.string("the key of metadata entry \(index)")
            guard seen.insert(key).inserted else {
                throw .invalidMetadata(file: cursor.file, key: key, problem: "appears twice; each key may appear once")
            }
            let code = try cursor.read(UInt32.self, "the type of metadata '\(key)'")
            entries.append((key, try value(code, key: key, depth: 0, from: &cursor)))
        }
        return entries
    }

    private static func type(_ code: UInt32, key: String, file: String) throws(GGUFError) -> GGUFValueType {
        guard let type = GGUFValueType(rawValue: code) else {
            throw .invalidMetadata(file: file, key: key, problem: "has value type code \(code), which GGUF does not define (0…12)")
        }
        return type
    }

    private static func value(_ code: UInt32, key: String, depth: Int, from cursor: inout GGUFCursor) throws(GGUFError) -> GGUFValue {
        let what = "the value of metadata '\(key)'"
        switch try type(code, key: key, file: cursor.file) {
        case .uint8: return .uint8(try cursor.read(UInt8.self, what))
        case .int8: return .int8(try cursor.read(Int8.self, what))
        case .uint16: return .uint16(try cursor.read(UInt16.self, what))
        case .int16: return .int16(try cursor.read(Int16.self, what))
        case .uint32: return .uint32(try cursor.read(UInt32.self, what))
        case .int32: return .int32(try cursor.read(Int32.self, what))
        case .uint64: return .uint64(try cursor.read(UInt64.self, what))
        case .int64: return .int64(try cursor.read(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try cursor.read(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try cursor.read(UInt64.self, what)))
        case .bool:
            let byte = try cursor.read(UInt8.self, what)
            guard byte <= 1 else {
                throw .invalidMetadata(file: cursor.file, key: key, problem: "is a bool stored as \(byte); a bool is 0 or 1")
            }
            return .bool(byte == 1)
        case .string: return .string(try cursor.string(what))
        case .array:
            guard depth < maximumNesting else {
                throw .invalidMetadata(file: cursor.file, key: key, problem: "nests arrays more than \(maximumNesting) deep")
            }
            let elementCode = try cursor.read(UInt32.self, "the element type of metadata '\(key)'")
            let element = try type(elementCode, key: key, file: cursor.file)
            let count = try cursor.read(UInt64.self, "the length of metadata '\(key)'")
            guard count <= UInt64(cursor.remaining / element.minimumSize) else {
                throw .invalidMetadata(file: cursor.file, key: key, problem: "is an array of \(count) \(element) values, "
                    + "more than the \(cursor.remaining) bytes left in the file can hold; the file is truncated or corrupt")
            }
            var values: [GGUFValue] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<Int(count) { values.append(try value(elementCode, key: key, depth: depth + 1, from: &cursor)) }
            return .array(element: element, values: values)
        }
    }
}
