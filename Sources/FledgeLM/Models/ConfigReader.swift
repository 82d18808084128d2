import Foundation
import FledgeTensor

/// Typed access to the JSON object of a config file (config.json, generation_config.json), with
/// errors naming the file and field. A field set to `null` counts as absent.
struct ConfigReader {
    /// The file's path, for errors.
    let file: String
    /// The file's top-level object.
    let object: JSONObject

    /// Reads `file`, which must hold a JSON object.
    init(file: String) throws {
        self.file = file
        guard FileManager.default.fileExists(atPath: file) else {
            throw ModelError.missingFile(path: file, hint: "a model directory needs the config.json that save_pretrained writes")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
        } catch {
            throw ModelError.invalidFile(path: file, problem: "is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw ModelError.invalidFile(path: file, problem: "is not a JSON object") }
        self.object = object
    }

    /// A reader of `object`, which errors say comes from `file`.
    init(file: String, object: JSONObject) {
        self.file = file
        self.object = object
    }

    /// Whether `key` is present and not null.
    func has(_ key: String) -> Bool { isPresent(object[key]) }

    /// Whether `key` is present and null.
    func isNull(_ key: String) -> Bool { object[key] == .null }

    func int(_ key: String) throws -> Int {
        guard has(key) else { throw ModelError.invalidConfig(file: file, field: key, problem: "is missing; it is required") }
        return try int(key, default: 0)
    }

    /// The integer at `key` (a number with no fractional part, as Python's `int` fields are
    /// sometimes written `2.0`), or `value` when absent.
    func int(_ key: String, default value: Int) throws -> Int {
        guard let field = object[key], isPresent(field) else { return value }
        if let integer = Self.integer(field) { return integer }
        throw ModelError.invalidConfig(file: file, field: key, problem: "must be an integer, got \(Self.shown(field))")
    }

    func optionalInt(_ key: String) throws -> Int? { has(key) ? try int(key) : nil }

    func double(_ key: String, default value: Double) throws -> Double {
        guard let field = object[key], isPresent(field) else { return value }
        switch field {
        case .int(let integer): return Double(integer)
        case .double(let number): return number
        default: throw ModelError.invalidConfig(file: file, field: key, problem: "must be a number, got \(Self.shown(field))")
        }
    }

    func double(_ key: String) throws -> Double {
        guard has(key) else { throw ModelError.invalidConfig(file: file, field: key, problem: "is missing; it is required") }
        return try double(key, default: 0)
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let field = object[key], isPresent(field) else { return value }
        if case .bool(let flag) = field { return flag }
        throw ModelError.invalidConfig(file: file, field: key, problem: "must be true or false, got \(Self.shown(field))")
    }

    /// The string at `key`, or nil when absent or not a string.
    func string(_ key: String) -> String? {
        if case .string(let text) = object[key] { return text }
        return nil
    }

    /// The list of strings at `key`, or nil when absent or not a list of strings.
    func strings(_ key: String) -> [String]? {
        guard case .array(let elements) = object[key] else { return nil }
        var result: [String] = []
        for element in elements {
            guard case .string(let text) = element else { return nil }
            result.append(text)
        }
        return result
    }

    /// The list of numbers at `key`, or nil when absent or not a list of numbers.
    func numbers(_ key: String) -> [Double]? {
        guard case .array(let elements) = object[key] else { return nil }
        var result: [Double] = []
        for element in elements {
            switch element {
            case .int(let integer): result.append(Double(integer))
            case .double(let number): result.append(number)
            default: return nil
            }
        }
        return result
    }

    /// An integer or a list of integers (`eos_token_id` may be either).
    func ints(_ key: String) throws -> [Int] {
        guard has(key) else { return [] }
        if case .array(let elements) = object[key] {
            return try elements.map { element in
                guard let integer = Self.integer(element) else {
                    throw ModelError.invalidConfig(file: file, field: key, problem: "must hold integers, got \(Self.shown(element))")
                }
                return integer
            }
        }
        return [try int(key)]
    }

    /// The object at `key`, or nil when absent or not an object.
    func dictionary(_ key: String) -> JSONObject? {
        if case .object(let nested) = object[key] { return nested }
        return nil
    }

    private func isPresent(_ field: JSONValue?) -> Bool { field != nil && field != .null }

    private static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .int(let integer): integer
        case .double(let number): Int(exactly: number)
        default: nil
        }
    }

    /// A value as config.json writes it, for errors.
    private static func shown(_ value: JSONValue) -> String { JSONWriter().string(value) }
}
