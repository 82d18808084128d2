/// A field of an Arrow schema: its name, type and, for a dictionary-encoded column, the dictionary.
struct ArrowField: Sendable {
    indirect enum DataType: Sendable {
        case null, bool, float32, float64, utf8, largeUTF8, binary, largeBinary
        case int(bits: Int, signed: Bool)
        case list(ArrowField, large: Bool)
        case fixedSizeList(ArrowField, size: Int)
        case structure([ArrowField])
        /// A list of key/value structs.
        case map(ArrowField)
    }

    /// A dictionary-encoded field: the id of its dictionary batches and the type of its indices.
    struct Dictionary: Sendable {
        let id: Int64
        let ordered: Bool
        let indexBits: Int
        let indexSigned: Bool
    }

    let name: String
    /// The value type (for a dictionary-encoded field, the type of the dictionary's values).
    let type: DataType
    let dictionary: Dictionary?

    /// Reads a `Field` table of Schema.fbs.
    init(_ table: FlatBufferTable, depth: Int = 0) throws(DataFormatError) {
        guard depth < 64 else { throw DataFormatError("the schema nests more than 64 deep") }
        name = try table.string(0) ?? ""
        let children = try table.tables(5).map { child throws(DataFormatError) in try ArrowField(child, depth: depth + 1) }
        type = try Self.dataType(code: try table.uint8(2), table: try table.table(3), children: children, name: name)
        if let encoding = try table.table(4) {
            let indexType = try encoding.table(1)
            let bits = Int(try indexType?.int32(0) ?? 32)
            guard [8, 16, 32, 64].contains(bits) else { throw DataFormatError("field '\(name)' has \(bits)-bit dictionary indices") }
            dictionary = Dictionary(id: try encoding.int64(0), ordered: try encoding.bool(2), indexBits: bits,
                                    indexSigned: try indexType?.bool(1) ?? true)
        } else {
            dictionary = nil
        }
    }

    /// The type of the `Type` union member `code` (Schema.fbs), with its table and the field's children.
    private static func dataType(code typeCode: UInt8, table typeTable: FlatBufferTable?, children: [ArrowField],
                                 name: String) throws(DataFormatError) -> DataType {
        let only = { () throws(DataFormatError) -> ArrowField in
            guard children.count == 1 else { throw DataFormatError("field '\(name)' needs exactly one child") }
            return children[0]
        }
        switch typeCode {
        case 1: return .null
        case 2:
            let bits = Int(try typeTable?.int32(0) ?? 0)
            guard [8, 16, 32, 64].contains(bits) else { throw DataFormatError("field '\(name)' is an integer of \(bits) bits") }
            return .int(bits: bits, signed: try typeTable?.bool(1) ?? false)
        case 3:
            switch try typeTable?.int16(0) ?? 0 {
            case 0: throw DataFormatError("field '\(name)' is a half-precision float, which Fledge does not read")
            case 1: return .float32
            default: return .float64
            }
        case 4: return .binary
        case 5: return .utf8
        case 6: return .bool
        case 12: return .list(try only(), large: false)
        case 13: return .structure(children)
        case 16:
            let size = Int(try typeTable?.int32(0) ?? 0)
            guard size >= 0 else { throw DataFormatError("field '\(name)' is a fixed-size list of \(size) elements") }
            return .fixedSizeList(try only(), size: size)
        case 17: return .map(try only())
        case 19: return .largeBinary
        case 20: return .largeUTF8
        case 21: return .list(try only(), large: true)
        default:
            let names = [7: "decimal", 8: "date", 9: "time", 10: "timestamp", 11: "interval", 14: "union",
                         15: "fixed-size binary", 18: "duration", 22: "run-end encoded", 23: "binary view",
                         24: "string view", 25: "list view", 26: "large list view"]
            throw DataFormatError("field '\(name)' has type \(names[Int(typeCode)] ?? "number \(typeCode)"), which Fledge does "
                + "not read; drop the column or store it as text")
        }
    }

    /// This field without its dictionary encoding: the field a dictionary batch's column has.
    private init(valuesOf field: ArrowField) {
        name = field.name
        type = field.type
        dictionary = nil
    }

    var dictionaryValues: ArrowField { ArrowField(valuesOf: self) }

    /// The type as pyarrow prints it.
    var typeName: String {
        let value: String = switch type {
        case .null: "null"
        case .bool: "bool"
        case .float32: "float"
        case .float64: "double"
        case .utf8: "string"
        case .largeUTF8: "large_string"
        case .binary: "binary"
        case .largeBinary: "large_binary"
        case .int(let bits, let signed): (signed ? "int" : "uint") + "\(bits)"
        case .list(let child, let large): (large ? "large_list<" : "list<") + "\(child.name): \(child.typeName)>"
        case .fixedSizeList(let child, let size): "fixed_size_list<\(child.name): \(child.typeName)>[\(size)]"
        case .structure(let fields): "struct<" + fields.map { "\($0.name): \($0.typeName)" }.joined(separator: ", ") + ">"
        case .map(let entries):
            if case .structure(let pair) = entries.type, pair.count == 2 { "map<\(pair[0].typeName), \(pair[1].typeName)>" } else { "map" }
        }
        guard let dictionary else { return value }
        return "dictionary<values=\(value), indices=\(dictionary.indexSigned ? "int" : "uint")\(dictionary.indexBits), ordered=\(dictionary.ordered ? 1 : 0)>"
    }

    /// Every dictionary-encoded field in this one's subtree, this one included.
    var dictionaryFields: [ArrowField] {
        var found = dictionary == nil ? [] : [self]
        switch type {
        case .list(let child, _), .fixedSizeList(let child, _), .map(let child): found += child.dictionaryFields
        case .structure(let fields): found += fields.flatMap(\.dictionaryFields)
        default: break
        }
        return found
    }
}
