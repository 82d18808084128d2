import Foundation
import Yams

/// The entries of a config file (YAML or JSON) or of command-line overrides, in order, untyped.
///
/// Plain scalars are read by the YAML 1.2 core rules, so `1e-5` is a number (YAML 1.1 would make it a
/// string); the field tables then give each value its type.
public struct ConfigDocument: Sendable {
    /// Where the entries came from, for messages.
    public var source: String
    /// The top-level entries, in file order.
    public var entries: [ConfigEntry]

    /// A document from entries already parsed.
    public init(source: String, entries: [ConfigEntry]) {
        self.source = source
        self.entries = entries
    }

    /// Reads a YAML or JSON file (JSON is read as YAML, which it is a subset of).
    public init(contentsOf url: URL) throws(ConfigFileError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw ConfigFileError(source: url.path, message: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(yaml: text, source: url.path)
    }

    /// Parses YAML or JSON text whose top level is a mapping; documents that nest or expand (through
    /// aliases) beyond ``YAMLLimits`` are refused before they are built.
    public init(yaml text: String, source: String) throws(ConfigFileError) {
        let node = try Self.compose(text, source: source, problem: "not valid YAML or JSON")
        guard let node else {
            self.init(source: source, entries: [])
            return
        }
        guard case .map(let entries) = try ConfigDocument.value(of: node, source: source) else {
            throw ConfigFileError(source: source, message: "the top level must be a mapping of field names to values")
        }
        self.init(source: source, entries: entries)
    }

    /// Parses command-line overrides `name=value`, each value read as a YAML value (`[a, b]` is a list).
    public init(overrides: [String]) throws(ConfigFileError) {
        var entries: [ConfigEntry] = []
        for item in overrides {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ConfigFileError(source: "--set \(item)", message: "write overrides as name=value")
            }
            let text = String(item[item.index(after: equals)...])
            let node = try Self.compose(text, source: "--set \(item)", problem: "not a valid value")
            let value = try node.map { (node) throws(ConfigFileError) in
                try ConfigDocument.value(of: node, source: "--set \(item)")
            } ?? .null
            entries.append(ConfigEntry(key: String(item[..<equals]), value: value))
        }
        self.init(source: "command line", entries: entries)
    }

    /// The node tree of `text` within the limits, or an error naming `source`.
    private static func compose(_ text: String, source: String, problem: String) throws(ConfigFileError) -> Node? {
        try YAMLLimits().check(text, source: source)
        do {
            return try Yams.compose(yaml: text)
        } catch {
            throw ConfigFileError(source: source, message: "\(problem): \(error)")
        }
    }

    private static func value(of node: Node, source: String) throws(ConfigFileError) -> ConfigValue {
        switch node {
        case .scalar(let scalar):
            return scalar.style == .plain ? plainScalar(scalar.string) : .string(scalar.string)
        case .sequence(let sequence):
            return .list(try sequence.map { (item) throws(ConfigFileError) in try value(of: item, source: source) })
        case .mapping(let mapping):
            var entries: [ConfigEntry] = []
            var names: Set<String> = []
            for (key, item) in mapping {
                guard case .scalar(let name) = key else {
                    throw ConfigFileError(source: source, message: "mapping keys must be plain names")
                }
                guard names.insert(name.string).inserted else {
                    throw ConfigFileError(source: source, message: "\(name.string) is given twice")
                }
                entries.append(ConfigEntry(key: name.string, value: try value(of: item, source: source)))
            }
            return .map(entries)
        }
    }

    /// Types an unquoted scalar by the YAML 1.2 core schema: null, booleans, integers, floats, strings.
    static func plainScalar(_ text: String) -> ConfigValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", "+.inf", ".Inf", "+.Inf", ".INF", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if let value = Int(text) { return .int(value) }
        let numeric = text.contains(where: \.isNumber) && text.allSatisfy { "0123456789+-.eE".contains($0) }
        if numeric, let value = Double(text) { return .double(value) }
        return .string(text)
    }
}

/// A config file that cannot be read at all (as opposed to fields with problems, which the report lists).
public struct ConfigFileError: Error, Sendable, CustomStringConvertible {
    /// The file or flag at fault.
    public let source: String
    /// What is wrong.
    public let message: String
    public var description: String { "\(source): \(message)" }
}
