import Foundation
import FledgeJSON

/// A JSON dataset file as `datasets.load_dataset("json")` reads it: JSON Lines (one object per line), or,
/// in a `.json` file that starts with `[`, one JSON array of objects. Columns are the keys in order of first appearance; a row without a key
/// has null there; a column whose values mix integers and numbers with a fraction holds numbers
/// (pyarrow infers `double`).
public enum JSONDataFile {
    /// Reads `url`; errors name the file and line (JSON Lines) or the row (an array).
    public static func read(_ url: URL) throws(DatasetError) -> DataTable {
        let bytes = try DataFileBytes.read(url)
        let first = bytes.first { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n")].contains($0) }
        guard first == UInt8(ascii: "["), url.pathExtension.lowercased() == "json" else {
            let lines = try JSONLinesFile(url: url, bytes: bytes)
            return try table(lines.rows.map(\.object), lines: lines.rows.map(\.line), url: url)
        }
        if let (offset, byte) = UTF8Check.firstInvalidByte(in: bytes) {
            throw DatasetError(file: url.path, UTF8Check.message(offset: offset, byte: byte))
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw DatasetError(file: url.path, line: error.line, "not valid JSON (\(error.message) at column \(error.column))")
        }
        guard case .array(let elements) = value else { throw DatasetError(file: url.path, "expected a JSON array of objects") }
        var objects: [JSONObject] = []
        for (index, element) in elements.enumerated() {
            guard case .object(let object) = element else {
                throw DatasetError(file: url.path, row: index + 1, "expected an object per element of the array, found \(element.kind)")
            }
            objects.append(object)
        }
        guard !objects.isEmpty else { throw DatasetError(file: url.path, "the dataset is empty; the array holds no objects") }
        return try table(objects, lines: nil, url: url)
    }

    /// The rows with every column (in order of first appearance) and numbers unified per column.
    private static func table(_ objects: [JSONObject], lines: [Int]?, url: URL) throws(DatasetError) -> DataTable {
        var names: [String] = []
        var seen = Set<String>()
        var types: [String: TypeSketch] = [:]
        for object in objects {
            for (key, value) in zip(object.keys, object.orderedValues) {
                if seen.insert(key).inserted { names.append(key) }
                types[key, default: TypeSketch()].add(value)
            }
        }
        let floating = Set(names.filter { types[$0]?.mixesIntegersAndNumbers == true })
        let template: RowTemplate
        do { template = try RowTemplate(keys: names) } catch { throw DatasetError(file: url.path, error.message) }
        let rows = objects.map { object in
            if object.keys == names && floating.isEmpty { return object }
            return template.object(names.map { name in
                let value = object[name] ?? .null
                if floating.contains(name), case .int(let integer) = value { return .double(Double(integer)) }
                return value
            })
        }
        return DataTable(columns: names.map { DataColumn(name: $0, type: types[$0]?.name ?? "null") }, rows: rows, lines: lines)
    }

    /// The type pyarrow infers for a column, built up one value at a time: the kinds seen, and for lists
    /// and objects the sketches of their elements and fields.
    private struct TypeSketch {
        private var kinds = Set<String>()
        private var elements: [TypeSketch] = []
        private var fields: [(name: String, sketch: TypeSketch)] = []

        mutating func add(_ value: JSONValue) {
            switch value {
            case .null: return
            case .bool: kinds.insert("bool")
            case .int: kinds.insert("int64")
            case .double: kinds.insert("double")
            case .string: kinds.insert("string")
            case .array(let items):
                kinds.insert("list")
                if elements.isEmpty { elements = [TypeSketch()] }
                for item in items { elements[0].add(item) }
            case .object(let object):
                kinds.insert("struct")
                for (key, field) in zip(object.keys, object.orderedValues) {
                    if let index = fields.firstIndex(where: { $0.name == key }) {
                        fields[index].sketch.add(field)
                    } else {
                        var sketch = TypeSketch()
                        sketch.add(field)
                        fields.append((key, sketch))
                    }
                }
            }
        }

        /// Whether both integers and numbers with a fraction were seen (pyarrow reads all as numbers).
        var mixesIntegersAndNumbers: Bool { kinds == ["int64", "double"] }

        /// The type in pyarrow's spelling (`mixed` when the values disagree).
        var name: String {
            if mixesIntegersAndNumbers { return "double" }
            guard kinds.count == 1, let kind = kinds.first else { return kinds.isEmpty ? "null" : "mixed" }
            switch kind {
            case "list": return "list<item: \(elements.first?.name ?? "null")>"
            case "struct": return "struct<" + fields.map { "\($0.name): \($0.sketch.name)" }.joined(separator: ", ") + ">"
            default: return kind
            }
        }
    }
}
