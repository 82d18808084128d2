import FledgeLM
import XCTest
@testable import FledgeRL

/// Rewards, from any function, are finite and of magnitude at most 1e30; anything else is an error
/// naming the function and the completion (NaN still means "no reward", as in TRL).
final class RewardRangeTests: TemporaryDirectoryTestCase {
    private struct Fixed: RewardFunction {
        let name: String
        let values: [Double?]
        func score(_ samples: [RewardSample]) -> [Double?] { values }
    }

    private let samples = ["It is 3.", "It is 4."].map {
        RewardSample(prompt: .string("1+2?"), completion: $0, completionIds: [1, 2])
    }

    func testRewardOf1e308IsRefusedNamingTheFunctionAndTheCompletion() {
        XCTAssertThrowsError(try RewardScores.score(samples, with: [Fixed(name: "huge", values: [1, 1e308])])) { error in
            XCTAssertEqual("\(error)", "reward function 'huge' gave completion 2 of 2 the reward 1e308, outside [-1e30, 1e30]; "
                + "rewards must be finite numbers of magnitude at most 1e30 (or nil, null in JSON, for no reward); "
                + "the completion: \"It is 4.\"")
        }
    }

    func testInfiniteRewardIsRefusedAsIsAHugeOne() {
        for value in [Double.infinity, -.infinity, -2e30] {
            XCTAssertThrowsError(try RewardScores.score(samples, with: [Fixed(name: "f", values: [value, 0])])) { error in
                XCTAssert("\(error)".contains("reward function 'f' gave completion 1 of 2"), "\(error)")
            }
        }
    }

    func testRewardsUpTo1e30AndNaNAreAccepted() throws {
        let scores = try RewardScores.score(samples, with: [Fixed(name: "f", values: [1e30, .nan])])
        XCTAssertEqual(scores.values, [[1e30, nil]])
    }

    func testRewardCommandAnsweringHugeValueIsRefused() throws {
        let script = directory.appendingPathComponent("huge.sh")
        try #"while read line; do echo '{"reward": 1e308}'; done"#.write(to: script, atomically: true, encoding: .utf8)
        let command = try RewardCommand(command: "sh '\(script.path)'")
        XCTAssertThrowsError(try RewardScores.score(samples, with: [command])) { error in
            XCTAssert("\(error)".hasPrefix("reward function 'reward_command' gave completion 1 of 2 the reward 1e308"), "\(error)")
        }
    }
}
