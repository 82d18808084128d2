import Foundation

/// The GGUF fixtures of FledgeLMTests (Fixtures/gguf, made by Scripts/reference/make_gguf_fixtures.py)
/// and what transformers computed with them (expected.json).
enum GGUFFixtureFiles {
    static func url(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../FledgeLMTests/Fixtures/gguf/\(name)").standardizedFileURL
    }

    static func expected(_ name: String) throws -> [String: Any] {
        let all = try JSONSerialization.jsonObject(with: Data(contentsOf: url("expected.json"))) as! [String: Any]
        return all[name] as! [String: Any]
    }
}
