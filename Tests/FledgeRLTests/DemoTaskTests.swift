import FledgeLM
import XCTest
@testable import FledgeRL

final class DemoTaskTests: XCTestCase {
    func testCharacterTokenizerRoundTrips() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-chartok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let size = try CharacterTokenizerFile.write(alphabet: ArithmeticTask.alphabet, to: directory)
        XCTAssertEqual(size, ArithmeticTask.alphabet.count + 2)
        let tokenizer = try Tokenizer(directory: directory.path)
        let ids = tokenizer.encode("37+58=95<eos>")
        // '0' is id 2, so digit d is d + 2; '+' is 12, '=' is 13, and <eos> is 1.
        XCTAssertEqual(ids, [5, 9, 12, 7, 10, 13, 11, 7, 1])
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "37+58=95")
    }

    func testSplitKeepsHeldOutPairsOutOfTraining() {
        let task = ArithmeticTask()
        let (train, heldOut) = task.split(seed: 7, train: 3000, heldOut: 200)
        XCTAssertEqual(train.count, 3000)
        XCTAssertEqual(heldOut.count, 200)
        func pair(_ p: ArithmeticTask.Problem) -> Set<Int> {
            Set(p.prompt.dropLast().split(separator: "+").map { Int($0)! })
        }
        let trainPairs = Set(train.map { pair($0) })
        XCTAssert(heldOut.allSatisfy { !trainPairs.contains(pair($0)) })
        XCTAssert(heldOut.allSatisfy { p in
            let operands = p.prompt.dropLast().split(separator: "+").map { Int($0)! }
            return Int(p.answer) == operands[0] + operands[1]
        })
        XCTAssertEqual(task.split(seed: 7, train: 3000, heldOut: 200).heldOut, heldOut)
    }
}
