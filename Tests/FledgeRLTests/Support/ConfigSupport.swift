import Foundation
import XCTest
@testable import FledgeRL

/// Resolves YAML text as a config of `Config`.
func resolve<Config: TrainerConfig>(
    _ type: Config.Type, _ yaml: String, worldSize: Int = 1, preset: DefaultsPreset? = nil,
    overrides: [String] = [], file: StaticString = #filePath, line: UInt = #line
) throws -> ConfigResolution<Config> {
    let document = try ConfigDocument(yaml: yaml, source: "test")
    let options = ConfigOptions(preset: preset, worldSize: worldSize, overrides: try ConfigDocument(overrides: overrides))
    return ConfigResolver.resolve(type, document, options: options)
}

/// A message expected in a report: its kind, field, and a piece of its text.
struct Expected: CustomStringConvertible {
    let kind: ConfigMessage.Kind
    let field: String
    let text: String
    var description: String { "\(kind) \(field): …\(text)…" }

    static func change(_ field: String, _ text: String = "") -> Expected { Expected(kind: .change, field: field, text: text) }
    static func warning(_ field: String, _ text: String = "") -> Expected { Expected(kind: .warning, field: field, text: text) }
    static func note(_ field: String, _ text: String = "") -> Expected { Expected(kind: .note, field: field, text: text) }
    static func error(_ field: String, _ text: String = "") -> Expected { Expected(kind: .error, field: field, text: text) }
}

/// Asserts that the report holds exactly the expected messages (in any order).
func assertMessages(_ report: ConfigReport, _ expected: [Expected], _ context: String,
                    file: StaticString = #filePath, line: UInt = #line) {
    var remaining = report.messages
    for item in expected {
        if let index = remaining.firstIndex(where: {
            $0.kind == item.kind && $0.field == item.field && $0.text.contains(item.text)
        }) {
            remaining.remove(at: index)
        } else {
            XCTFail("\(context): missing \(item) in \(report.messages)", file: file, line: line)
        }
    }
    XCTAssert(remaining.isEmpty, "\(context): unexpected \(remaining)", file: file, line: line)
}

/// The value of a field in a resolved config.
func value(_ resolved: some ResolvedConfig, _ name: String) -> ConfigValue? {
    resolved.entries.first { $0.key == name }?.value
}

/// A file in the test fixtures.
func fixtureURL(_ name: String) -> URL {
    Bundle.module.url(forResource: "Fixtures/" + name, withExtension: nil)!
}

/// A JSON value of a fixture, read into a ``ConfigValue``.
struct JSONScalar: Decodable {
    let value: ConfigValue

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            value = .null
        } else if let bool = try? container.decode(Bool.self) {
            value = .bool(bool)
        } else if let int = try? container.decode(Int.self) {
            value = .int(int)
        } else if let double = try? container.decode(Double.self) {
            value = .double(double)
        } else if let string = try? container.decode(String.self) {
            value = .string(string)
        } else if let list = try? container.decode([JSONScalar].self) {
            value = .list(list.map(\.value))
        } else {
            value = .map(try container.decode([String: JSONScalar].self).sorted { $0.key < $1.key }
                .map { ConfigEntry(key: $0.key, value: $0.value.value) })
        }
    }
}
