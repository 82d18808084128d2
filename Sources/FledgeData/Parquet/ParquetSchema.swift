/// A Parquet file's schema as Fledge reads it: the leaf columns (where values and levels are stored)
/// and, per top-level column, how its leaves' levels assemble into a value.
struct ParquetSchema: Sendable {
    /// How a leaf's stored values become JSON values.
    enum ValueKind: Sendable {
        case boolean, int32, uint32, int64, uint64, float, double, text

        /// The Parquet physical type that holds this kind.
        var physicalType: Int {
            switch self {
            case .boolean: 0
            case .int32, .uint32: 1
            case .int64, .uint64: 2
            case .float: 4
            case .double: 5
            case .text: 6
            }
        }
    }

    /// A column that holds values: its dotted path, value kind and maximum levels.
    struct Leaf: Sendable {
        let path: String
        let kind: ValueKind
        let maxDefinition: Int
        let maxRepetition: Int
    }

    /// How the levels of a range of leaves become one value (Dremel record assembly).
    indirect enum Shape: Sendable {
        /// The next value of leaf `column`, present when its definition level is `definedLevel`.
        case leaf(column: Int, definedLevel: Int)
        /// Null when the first leaf's definition level is below `level` (one entry in every leaf).
        case optional(Shape, level: Int, leaves: Range<Int>)
        /// An object of the fields' values.
        case structure(RowTemplate, [Shape])
        /// An array of the fields' values (a map entry as `[key, value]`, as Python's tuple prints).
        case tuple([Shape])
        /// A list: empty when the first leaf's definition level is below `definedLevel`; else elements
        /// while the first leaf's next repetition level is `repetitionLevel`.
        case list(Shape, definedLevel: Int, repetitionLevel: Int, leaves: Range<Int>)
    }

    let leaves: [Leaf]
    /// The top-level columns with their types as pyarrow prints them.
    let columns: [DataColumn]
    let template: RowTemplate
    /// One shape per top-level column.
    let shapes: [Shape]

    init(_ elements: [ParquetMetadata.SchemaElement]) throws(DataFormatError) {
        var builder = Builder(elements: elements)
        let root = elements[0]
        guard root.childCount > 0 else { throw DataFormatError("the schema has no columns") }
        var columns: [DataColumn] = []
        var shapes: [Shape] = []
        builder.next = 1
        for _ in 0..<root.childCount {
            let field = try builder.field(definition: 0, repetition: 0, depth: 1)
            columns.append(DataColumn(name: field.name, type: field.type))
            shapes.append(field.shape)
        }
        guard builder.next == elements.count else {
            throw DataFormatError("the schema lists \(elements.count) elements but its groups hold \(builder.next)")
        }
        leaves = builder.leaves
        self.columns = columns
        template = try RowTemplate(keys: columns.map(\.name))
        self.shapes = shapes
    }

    /// Walks the depth-first schema elements, counting levels and collecting leaves.
    private struct Builder {
        let elements: [ParquetMetadata.SchemaElement]
        var next = 0
        var leaves: [Leaf] = []
        var path: [String] = []
        static let maximumDepth = 64

        init(elements: [ParquetMetadata.SchemaElement]) { self.elements = elements }

        /// The field at `next` (its name, type and shape), with the levels of its parent.
        mutating func field(definition: Int, repetition: Int, depth: Int) throws(DataFormatError)
            -> (name: String, type: String, shape: Shape) {
            guard depth <= Self.maximumDepth else { throw DataFormatError("the schema nests more than \(Self.maximumDepth) deep") }
            guard next < elements.count else { throw DataFormatError("a group counts more children than the schema lists") }
            let element = elements[next]
            next += 1
            path.append(element.name)
            defer { path.removeLast() }
            let firstLeaf = leaves.count
            switch element.repetition ?? 0 {
            case 0:
                let (type, shape) = try content(element, definition: definition, repetition: repetition, depth: depth)
                return (element.name, type, shape)
            case 1:
                let (type, shape) = try content(element, definition: definition + 1, repetition: repetition, depth: depth)
                return (element.name, type, .optional(shape, level: definition + 1, leaves: firstLeaf..<leaves.count))
            case 2:
                // A repeated field outside a LIST group is a list of its values, never null.
                let (type, shape) = try content(element, definition: definition + 1, repetition: repetition + 1, depth: depth)
                return (element.name, "list<\(element.name): \(type)>",
                        .list(shape, definedLevel: definition + 1, repetitionLevel: repetition + 1, leaves: firstLeaf..<leaves.count))
            case let other:
                throw DataFormatError("column '\(currentPath)' has repetition type \(other)")
            }
        }

        private var currentPath: String { path.joined(separator: ".") }

        /// The type and shape of `element`'s value where it is present, at the given levels.
        private mutating func content(_ element: ParquetMetadata.SchemaElement, definition: Int, repetition: Int,
                                      depth: Int) throws(DataFormatError) -> (String, Shape) {
            if element.childCount == 0 {
                let (kind, type) = try Self.valueKind(element, path: currentPath)
                leaves.append(Leaf(path: currentPath, kind: kind, maxDefinition: definition, maxRepetition: repetition))
                return (type, .leaf(column: leaves.count - 1, definedLevel: definition))
            }
            let annotation = element.logicalType ?? element.convertedType.map { [3: 3, 1: 2, 2: 2][$0] ?? 0 }
            switch annotation {
            case 3: return try list(element, definition: definition, repetition: repetition, depth: depth)
            case 2: return try map(element, definition: definition, repetition: repetition, depth: depth)
            default:
                var names: [String] = []
                var types: [String] = []
                var shapes: [Shape] = []
                for _ in 0..<element.childCount {
                    let field = try field(definition: definition, repetition: repetition, depth: depth + 1)
                    names.append(field.name)
                    types.append("\(field.name): \(field.type)")
                    shapes.append(field.shape)
                }
                let template: RowTemplate
                do throws(DataFormatError) { template = try RowTemplate(keys: names) } catch {
                    throw DataFormatError("struct '\(currentPath)': \(error.message)")
                }
                return ("struct<\(types.joined(separator: ", "))>", .structure(template, shapes))
            }
        }

        /// A LIST group: one repeated child, which is the element itself (a legacy 2-level list) or holds it.
        private mutating func list(_ element: ParquetMetadata.SchemaElement, definition: Int, repetition: Int,
                                   depth: Int) throws(DataFormatError) -> (String, Shape) {
            guard element.childCount == 1, next < elements.count, elements[next].repetition == 2 else {
                throw DataFormatError("list '\(currentPath)' must have a single repeated child")
            }
            let repeated = elements[next]
            let firstLeaf = leaves.count
            let level = (definition + 1, repetition + 1)
            let elementIsRepeated = repeated.childCount != 1 || repeated.name == "array" || repeated.name == element.name + "_tuple"
            let elementName: String
            let type: String
            let shape: Shape
            if elementIsRepeated {
                next += 1
                path.append(repeated.name)
                defer { path.removeLast() }
                (type, shape) = try content(repeated, definition: level.0, repetition: level.1, depth: depth + 1)
                elementName = repeated.name
            } else {
                next += 1
                path.append(repeated.name)
                defer { path.removeLast() }
                let inner = try field(definition: level.0, repetition: level.1, depth: depth + 2)
                (elementName, type, shape) = inner
            }
            return ("list<\(elementName): \(type)>",
                    .list(shape, definedLevel: level.0, repetitionLevel: level.1, leaves: firstLeaf..<leaves.count))
        }

        /// A MAP group: one repeated `key_value` group of a key and a value; each entry reads as `[key, value]`.
        private mutating func map(_ element: ParquetMetadata.SchemaElement, definition: Int, repetition: Int,
                                  depth: Int) throws(DataFormatError) -> (String, Shape) {
            guard element.childCount == 1, next < elements.count, elements[next].repetition == 2,
                  elements[next].childCount == 2 else {
                throw DataFormatError("map '\(currentPath)' must have a single repeated key_value group of two fields")
            }
            let firstLeaf = leaves.count
            next += 1
            path.append(elements[next - 1].name)
            defer { path.removeLast() }
            let key = try field(definition: definition + 1, repetition: repetition + 1, depth: depth + 2)
            let value = try field(definition: definition + 1, repetition: repetition + 1, depth: depth + 2)
            return ("map<\(key.type), \(value.type)>", .list(.tuple([key.shape, value.shape]), definedLevel: definition + 1,
                                                              repetitionLevel: repetition + 1, leaves: firstLeaf..<leaves.count))
        }

        /// The value kind and pyarrow type name of a leaf, from its physical and logical types.
        private static func valueKind(_ element: ParquetMetadata.SchemaElement, path: String) throws(DataFormatError)
            -> (ValueKind, String) {
            let converted = element.convertedType
            let logical = element.logicalType
            let unsupported = DataFormatError("column '\(path)' has a type Fledge does not read (physical type "
                + "\(element.physicalType.map(String.init) ?? "none"), logical type \(logical.map(String.init) ?? "none"), "
                + "converted type \(converted.map(String.init) ?? "none")); dates, times, decimals and fixed-size binary "
                + "are not supported: drop the column or store it as text")
            let width = element.integerWidth ?? converted.flatMap { [11: 8, 12: 16, 13: 32, 14: 64, 15: 8, 16: 16, 17: 32, 18: 64][$0] }
            let signed = element.integerSigned ?? converted.map { !(11...14).contains($0) } ?? true
            let integer = logical == nil || logical == 10
            let integerConverted = converted == nil || (11...18).contains(converted!)
            switch element.physicalType {
            case 0: return (.boolean, "bool")
            case 1 where integer && integerConverted:
                let bits = width ?? 32
                return (signed ? .int32 : .uint32, (signed ? "int" : "uint") + "\(bits)")
            case 2 where integer && integerConverted:
                return (signed ? .int64 : .uint64, signed ? "int64" : "uint64")
            case 4 where logical == nil: return (.float, "float")
            case 5 where logical == nil: return (.double, "double")
            case 6:
                switch logical ?? converted.map({ [0: 1, 4: 4, 19: 12][$0] ?? -1 }) {
                case nil: return (.text, "binary")
                case 1, 4, 12: return (.text, "string")
                default: throw unsupported
                }
            default: throw unsupported
            }
        }
    }
}
