import FledgeTensor
import Foundation
import XCTest

final class AtomicFileTests: TemporaryDirectoryTestCase {
    func testWritesTheBytesAndLeavesNoSiblingBehind() throws {
        let target = directory.appendingPathComponent("config.json")
        try AtomicFile.write(Data("{\"a\": 1}\n".utf8), to: target)
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "{\"a\": 1}\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["config.json"])
    }

    func testReplacesAnExistingFileWhole() throws {
        let target = directory.appendingPathComponent("adapter_config.json")
        try Data(repeating: 65, count: 4096).write(to: target)
        try AtomicFile.write(Data("short".utf8), to: target)
        XCTAssertEqual(try Data(contentsOf: target), Data("short".utf8))
    }

    func testAMissingDirectoryIsReportedWithThePath() throws {
        let target = directory.appendingPathComponent("absent/config.json")
        XCTAssertThrowsError(try AtomicFile.write(Data("x".utf8), to: target)) { error in
            XCTAssertTrue("\(error)".contains(target.path), "\(error)")
        }
    }
}
