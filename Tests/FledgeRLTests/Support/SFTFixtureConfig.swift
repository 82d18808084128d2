import Foundation
import XCTest
@testable import FledgeRL

extension SFTFixtures {
    /// The SFTConfig a fixture case records (its `config` object of TRL fields), resolved as a config
    /// file would be; a `chat_template_path` is relative to the fixture directory.
    static func config(_ fields: JSONValue?, name: String) throws -> SFTConfig {
        guard case .object(let object)? = fields else { return SFTConfig() }
        var entries: [ConfigEntry] = []
        for (key, value) in object.entries {
            switch value {
            case .int(let number): entries.append(ConfigEntry(key: key, value: .int(number)))
            case .double(let number): entries.append(ConfigEntry(key: key, value: .double(number)))
            case .bool(let flag): entries.append(ConfigEntry(key: key, value: .bool(flag)))
            case .string(let text) where key == "chat_template_path":
                entries.append(ConfigEntry(key: key, value: .string(directory.appendingPathComponent(text).path)))
            case .string(let text): entries.append(ConfigEntry(key: key, value: .string(text)))
            default: XCTFail("\(name): unexpected config value \(value)")
            }
        }
        let resolved = ConfigResolver.resolve(SFTConfig.self, ConfigDocument(source: name, entries: entries),
                                              options: ConfigOptions(preset: .trl))
        XCTAssert(resolved.report.isUsable, "\(name): \(resolved.report.errors)")
        return resolved.config
    }
}
