import Foundation
import XCTest
@testable import FledgeRL

/// `docs/configuration.md`'s tables are generated from the code: the field tables and defaults, the
/// preset differences, the checks with the messages they actually draw, and the fields Fledge does not
/// train with. This test fails when a table is out of date; run it with `FLEDGE_UPDATE_DOCS=1` to
/// rewrite the generated blocks in place.
final class ConfigurationDocTests: XCTestCase {
    private let document = RepositoryFiles.url("docs/configuration.md")

    func testGeneratedTablesAreUpToDate() throws {
        let blocks: [(name: String, text: String)] = [
            ("presets", ConfigFieldTables.presetDifferences()),
            ("fields", try ConfigFieldTables.markdown()),
            ("checks", try CheckCatalogue.markdown()),
            ("retired", try FieldClassTables.retired()),
            ("unimplemented", try FieldClassTables.unimplemented()),
            ("not-applicable", try FieldClassTables.notApplicable()),
        ]
        let original = try RepositoryFiles.text(document)
        var text = original
        for block in blocks {
            let begin = "<!-- BEGIN GENERATED \(block.name) -->\n", end = "<!-- END GENERATED \(block.name) -->"
            guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else {
                XCTFail("docs/configuration.md: no block \(begin.trimmingCharacters(in: .newlines)) … \(end)")
                continue
            }
            text.replaceSubrange(start.upperBound..<stop.lowerBound, with: block.text + "\n")
        }
        if ProcessInfo.processInfo.environment["FLEDGE_UPDATE_DOCS"] == "1" {
            try text.write(to: document, atomically: true, encoding: .utf8)
        } else if text != original {
            let changed = zip(original.split(separator: "\n"), text.split(separator: "\n")).first { $0 != $1 }
            XCTFail("docs/configuration.md is out of date (first difference: \(changed.map { "\($0.0) ≠ \($0.1)" } ?? "length")); "
                + "regenerate it with FLEDGE_UPDATE_DOCS=1 swift test --filter ConfigurationDocTests")
        }
    }
}
