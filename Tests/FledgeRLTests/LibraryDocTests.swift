import XCTest

/// docs/library.md shows the whole example program; it must be the program that builds.
final class LibraryDocTests: XCTestCase {
    func testLibraryDocShowsTheExampleProgram() throws {
        let doc = try RepositoryFiles.text(RepositoryFiles.url("docs/library.md"))
        let program = try RepositoryFiles.text(RepositoryFiles.url("examples/library/main.swift"))
        XCTAssert(doc.contains("```swift\n" + program + "```\n"),
                  "docs/library.md's code block differs from examples/library/main.swift; paste the file into the doc")
    }
}
