import Foundation
import XCTest
@testable import FledgeRL

/// `fledge generate` on inputs that give it nothing to continue.
final class GenerateCommandTests: TemporaryDirectoryTestCase {
    /// Item 9 of the hardening issue: an empty prompt, or one with no token in the vocabulary,
    /// is an error saying what to do, not a failed precondition (exit 132).
    func testAPromptWithNoTokensIsAnError() throws {
        for prompt in ["", "€€"] {
            let result = try runFledge(["generate", "--model", GRPOTrainingTests.modelDirectory.path, "--prompt", prompt],
                                       expectSuccess: false)
            XCTAssertEqual(result.status, 64, result.output)
            XCTAssert(result.output.contains("--prompt \(String(reflecting: prompt)) encodes to no tokens"), result.output)
        }
    }
}
