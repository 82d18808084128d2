import Foundation
import FledgeTensor

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
        for object in objects { for key in object.keys where seen.insert(key).inserted { names.append(key) } }
        let floating = Set(names.filter { name in
            objects.contains { if case .double = $0[name] { true } else { false } }
                && objects.allSatisfy { switch $0[name] { case .int?, .double?, .null?, nil: true; default: false } }
        })
        let template: RowTemplate
        do { template = try RowTemplate(keys: names) } catch { throw DatasetError(file: url.path, error.message) }
        let rows = objects.map { object in
            template.object(names.map { name in
                let value = object[name] ?? .null
                if floating.contains(name), case .int(let integer) = value { return .double(Double(integer)) }
                return value
            })
        }
        let columns = names.map { name in DataColumn(name: name, type: typeName(objects.compactMap { $0[name] })) }
        return DataTable(columns: columns, rows: rows, lines: lines)
    }

    /// The type pyarrow infers for a column's values, in its spelling.
    static func typeName(_ values: [JSONValue]) -> String {
        var kinds = Set<String>()
        var elements: [JSONValue] = []
        var fields: [String: [JSONValue]] = [:]
        var fieldOrder: [String] = []
        for value in values {
            switch value {
            case .null: continue
            case .bool: kinds.insert("bool")
            case .int: kinds.insert("int64")
            case .double: kinds.insert("double")
            case .string: kinds.insert("string")
            case .array(let items):
                kinds.insert("list")
                elements += items
            case .object(let object):
                kinds.insert("struct")
                for (key, field) in object.entries {
                    if fields[key] == nil { fieldOrder.append(key) }
                    fields[key, default: []].append(field)
                }
            }
        }
        if kinds == ["int64", "double"] { return "double" }
        guard kinds.count == 1, let kind = kinds.first else { return kinds.isEmpty ? "null" : "mixed" }
        switch kind {
        case "list": return "list<item: \(typeName(elements))>"
        case "struct": return "struct<" + fieldOrder.map { "\($0): \(typeName(fields[$0]!))" }.joined(separator: ", ") + ">"
        default: return kind
        }
    }
}
