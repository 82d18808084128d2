import Foundation
import FledgeJSON

/// A CSV file as `datasets.load_dataset("csv")` (pandas' `read_csv`) reads it: RFC 4180 quoting
/// (quoted fields may hold commas, doubled quotes and line breaks), the first record naming the
/// columns, and each column's type inferred from all its values: integers when every value is one,
/// else numbers, else booleans (`True`/`False`, `true`/`false`, `TRUE`/`FALSE`), else text (a text
/// column keeps every value as written, `007` included). An empty field is null.
public enum CSVFile {
    /// Reads `url`; errors name the file and the line.
    public static func read(_ url: URL) throws(DatasetError) -> DataTable {
        let bytes = try DataFileBytes.read(url)
        if let (offset, byte) = UTF8Check.firstInvalidByte(in: bytes) {
            throw DatasetError(file: url.path, UTF8Check.message(offset: offset, byte: byte))
        }
        let records = try parse(bytes, file: url.path)
        guard let header = records.first else { throw DatasetError(file: url.path, "the file is empty; the first line must name the columns") }
        let names = header.fields.map { $0 ?? "" }
        let template: RowTemplate
        do { template = try RowTemplate(keys: names) } catch { throw DatasetError(file: url.path, line: header.line, error.message) }
        let body = records.dropFirst()
        for record in body where record.fields.count != names.count {
            throw DatasetError(file: url.path, line: record.line, "\(record.fields.count) fields, but the header names "
                + "\(names.count) columns; quote fields that hold commas")
        }
        let columns = names.indices.map { column in body.map { $0.fields[column] } }
        let kinds = columns.map(Kind.init)
        let rows = body.indices.map { index in
            template.object(names.indices.map { kinds[$0].value(columns[$0][index - body.startIndex]) })
        }
        return DataTable(columns: zip(names, kinds).map { DataColumn(name: $0, type: $1.rawValue) }, rows: rows,
                         lines: body.map(\.line))
    }

    /// A column's inferred type.
    private enum Kind: String {
        case int64, double, bool, string, null

        init(_ values: [String?]) {
            let present = values.compactMap { $0 }
            if present.isEmpty { self = .null }
            else if present.allSatisfy({ Int($0) != nil }) { self = .int64 }
            else if present.allSatisfy({ Kind.number($0) != nil }) { self = .double }
            else if present.allSatisfy({ Kind.boolean($0) != nil }) { self = .bool }
            else { self = .string }
        }

        func value(_ field: String?) -> JSONValue {
            guard let field else { return .null }
            switch self {
            case .int64: return .int(Int(field)!)
            case .double: return .double(Kind.number(field)!)
            case .bool: return .bool(Kind.boolean(field)!)
            case .string: return .string(field)
            case .null: return .null
            }
        }

        static func number(_ text: String) -> Double? {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, trimmed.allSatisfy({ "0123456789+-.eE".contains($0) }) else { return nil }
            return Double(trimmed)
        }

        static func boolean(_ text: String) -> Bool? {
            switch text {
            case "True", "true", "TRUE": true
            case "False", "false", "FALSE": false
            default: nil
            }
        }
    }

    /// One record: its fields (nil for an empty one) and the line it starts on.
    private struct Record {
        var fields: [String?]
        let line: Int
    }

    /// Splits the text into records (RFC 4180; a blank line is skipped, `\r\n`, `\n` or `\r` ends a record).
    private static func parse(_ bytes: [UInt8], file: String) throws(DatasetError) -> [Record] {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), carriage = UInt8(ascii: "\r")
        var records: [Record] = []
        var line = 1
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        /// Passes over a line ending (`\r\n`, `\n` or a lone `\r`) at `index`; says whether there was one.
        func endOfLine() -> Bool {
            guard index < bytes.count, bytes[index] == newline || bytes[index] == carriage else { return false }
            index += bytes[index] == carriage && index + 1 < bytes.count && bytes[index + 1] == newline ? 2 : 1
            line += 1
            return true
        }
        while index < bytes.count {
            if endOfLine() { continue }
            var record = Record(fields: [], line: line)
            while true {
                var field: [UInt8] = []
                if index < bytes.count && bytes[index] == quote {
                    let opened = line
                    index += 1
                    while true {
                        guard index < bytes.count else {
                            throw DatasetError(file: file, line: opened, "a quoted field is never closed; end it with \"")
                        }
                        let byte = bytes[index]
                        index += 1
                        if byte == quote {
                            if index < bytes.count && bytes[index] == quote { field.append(quote); index += 1 } else { break }
                        } else {
                            if byte == newline { line += 1 }
                            field.append(byte)
                        }
                    }
                    if index < bytes.count, ![comma, newline, carriage].contains(bytes[index]) {
                        throw DatasetError(file: file, line: line, "text after a closing quote; double a quote inside a quoted field (\"\")")
                    }
                } else {
                    while index < bytes.count, ![comma, newline, carriage].contains(bytes[index]) {
                        if bytes[index] == quote {
                            throw DatasetError(file: file, line: line, "a quote inside an unquoted field; quote the whole field and double the quote")
                        }
                        field.append(bytes[index])
                        index += 1
                    }
                }
                record.fields.append(field.isEmpty ? nil : String(decoding: field, as: UTF8.self))
                guard index < bytes.count, bytes[index] == comma else { break }
                index += 1
            }
            records.append(record)
            _ = endOfLine()
        }
        return records
    }
}
