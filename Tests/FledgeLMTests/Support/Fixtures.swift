import Foundation
import XCTest
@testable import FledgeLM

/// Paths to and readers of the committed fixtures (made by `Scripts/reference/*.py`).
enum Fixtures {
    static var directory: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    static func tokenizerDirectory(_ kind: String) -> String {
        directory.appendingPathComponent("tokenizers").appendingPathComponent(kind).path
    }

    /// The JSON objects of a JSON Lines file.
    static func jsonLines(_ url: URL) throws -> [JSONValue] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var intArray: [Int]? {
        guard case .array(let elements) = self else { return nil }
        return elements.compactMap { if case .int(let value) = $0 { value } else { nil } }
    }
}
