import Foundation
import XCTest
@testable import FledgeRL

/// The built-in reward functions, their selection by name, and the checks on what a function returns.
final class RewardFunctionTests: XCTestCase {
    private func sample(_ completion: String, ids: [Int] = [], columns: [(String, JSONValue)] = []) -> RewardSample {
        RewardSample(prompt: .string("Q"), completion: completion, completionIds: ids, columns: JSONObject(columns))
    }

    func testAnswerCorrectness() throws {
        let reward = AnswerReward()
        let cases: [(String, JSONValue, Double?)] = [
            ("so the total is \\boxed{1,234}.", .string("1234"), 1),
            ("\\boxed{\\frac{1}{2}} or maybe 3", .double(0.5), 1),
            ("first \\boxed{2} then \\boxed{x^{2}+1}", .string("x^{2} + 1"), 1),
            ("Natalia sold 48 clips... #### 72", .string("She sold 48/2 = 24.\n#### 72"), 1),
            ("I think it's 12 apples, then 15.", .int(15), 1),
            ("I think it's 12 apples, then 15.", .int(12), 0),
            ("The answer is $18.", .string("18"), 1),
            ("no number here", .string("7"), 0),
            ("#### Paris", .string("paris"), 1),
            ("anything", .null, nil),
            ("anything", .string("   "), nil),
        ]
        let scores = try reward.score(cases.map { sample($0.0, columns: [("answer", $0.1)]) })
        for (index, item) in cases.enumerated() {
            XCTAssertEqual(scores[index], item.2, "\(item.0) vs \(item.1)")
        }
        XCTAssertEqual(try AnswerReward(column: "solution").score([sample("\\boxed{3}", columns: [("solution", .int(3))])]), [1])
    }

    func testAnswerErrorsNameTheColumn() {
        XCTAssertThrowsError(try AnswerReward().score([sample("4", columns: [("solution", .int(4))])])) { error in
            XCTAssert("\(error)".contains("no column 'answer' (its columns: solution)"), "\(error)")
        }
        XCTAssertThrowsError(try AnswerReward().score([sample("4", columns: [("answer", .array([.int(4)]))])])) { error in
            XCTAssert("\(error)".contains("column 'answer' holds an array"), "\(error)")
        }
    }

    func testFormat() throws {
        let reward = try FormatReward()
        XCTAssertEqual(reward.score([
            sample("<think>\nstep 1\nstep 2\n</think>\n<answer>42</answer>"),
            sample("<think>x</think><answer>42</answer> trailing words"),
            sample("<answer>42</answer>"),
        ]), [1, 0, 0])
        XCTAssertEqual(try FormatReward(pattern: "\\d+ apples", name: "apples").score([sample("I have 3 apples"), sample("none")]),
                       [1, 0])
        XCTAssertThrowsError(try FormatReward(pattern: "(unclosed")) { error in
            XCTAssert("\(error)".contains("'(unclosed' is not a valid regular expression"), "\(error)")
        }
    }

    func testLengthAndSoftOverlongPunishment() {
        let samples = [0, 80, 90, 100, 101, 150].map { sample("", ids: Array(repeating: 5, count: $0)) }
        // TRL's docstring example: max 100, cache 20, 90 tokens → −0.5.
        XCTAssertEqual(SoftOverlongPunishment(maxLength: 100, cache: 20).score(samples), [0, 0, -0.5, -1, -1, -1])
        XCTAssertEqual(SoftOverlongPunishment(maxLength: 100, cache: 0).score(samples), [0, 0, 0, 0, -1, -1])
        XCTAssertEqual(LengthReward(goal: .target(tokens: 100)).score(samples), [-1, -0.2, -0.1, 0, -0.01, -0.5])
        XCTAssertEqual(LengthReward(goal: .shorter(maxLength: 200)).score(samples), [0, -0.4, -0.45, -0.5, -0.505, -0.75])
    }

    func testSelectionByName() throws {
        func make(_ spec: String) throws -> any RewardFunction { try BuiltInRewards.make(spec, maxCompletionLength: 500) }
        XCTAssertEqual((try make("answer:solution") as? AnswerReward)?.column, "solution")
        XCTAssertEqual((try make("accuracy_reward") as? AnswerReward)?.column, "solution")
        XCTAssertEqual((try make("format") as? FormatReward)?.pattern, FormatReward.thinkThenAnswer)
        XCTAssertEqual((try make("format:^<a>.*</a>$") as? FormatReward)?.pattern, "^<a>.*</a>$")
        XCTAssertEqual((try make("length:200") as? LengthReward)?.goal, .target(tokens: 200))
        XCTAssertEqual((try make("length") as? LengthReward)?.goal, .shorter(maxLength: 500))
        let soft = try XCTUnwrap(try make("soft_overlong") as? SoftOverlongPunishment)
        XCTAssertEqual([soft.maxLength, soft.cache], [500, 100])
        let given = try XCTUnwrap(try make("soft_overlong:20480,4096") as? SoftOverlongPunishment)
        XCTAssertEqual([given.maxLength, given.cache], [20480, 4096])
        XCTAssertEqual(try make("think_format_reward").score([sample("<think>a</think>b"), sample("<think>a")]), [1, 0])

        for (spec, message) in [
            ("anser", "'anser' is not a built-in reward function or a reward model directory; did you mean answer?"),
            ("length:-3", "'-3' is not a list of token counts"),
            ("length:0", "give one positive target length"),
            ("soft_overlong:10,20", "the cache (20) must not exceed the maximum length (10)"),
            ("model:", "give the reward model's directory"),
            ("model:/nonexistent/rm", "reward model /nonexistent/rm"),
        ] {
            XCTAssertThrowsError(try make(spec), spec) { error in
                XCTAssert("\(error)".contains(message), "\(spec): \(error)")
            }
        }
    }

    func testConfigNeedsARewardAndDistinctNames() throws {
        let none = try resolve(GRPOConfig.self, "")
        XCTAssertThrowsError(try BuiltInRewards.make(config: none.config)) { error in
            XCTAssert("\(error)".contains("GRPO needs at least one reward: set reward_funcs"), "\(error)")
        }
        let twice = try resolve(GRPOConfig.self, "reward_funcs: [answer, 'answer:solution']")
        XCTAssertThrowsError(try BuiltInRewards.make(config: twice.config)) { error in
            XCTAssert("\(error)".contains("two reward functions are named 'answer'"), "\(error)")
        }
        let two = try resolve(GRPOConfig.self, "reward_funcs: [answer, format]\nreward_command: cat\nreward_command_timeout: 5")
        XCTAssertEqual(two.report.errors, [])
        let functions = try BuiltInRewards.make(config: two.config)
        XCTAssertEqual(functions.map(\.name), ["answer", "format", "reward_command"])
        XCTAssertEqual((functions[2] as? RewardCommand)?.timeout, 5)
    }

    /// A Swift reward function returning the wrong number of values is an error naming it; NaN means
    /// no value.
    func testScoringChecksEachFunctionsCount() throws {
        struct Fixed: RewardFunction {
            let name: String
            let values: [Double?]
            func score(_ samples: [RewardSample]) -> [Double?] { values }
        }
        let samples = [sample("a"), sample("b")]
        let scores = try RewardScores.score(samples, with: [Fixed(name: "ok", values: [1, .nan]), Fixed(name: "none", values: [nil, 2])])
        XCTAssertEqual(scores, RewardScores(names: ["ok", "none"], values: [[1, nil], [nil, 2]]))
        XCTAssertThrowsError(try RewardScores.score(samples, with: [Fixed(name: "ok", values: [1, 2]), Fixed(name: "short", values: [1])])) { error in
            XCTAssert("\(error)".contains("reward function 'short' returned 1 rewards for 2 completions"), "\(error)")
        }
    }

    /// A reward model directory scores as TRL's `_calculate_rewards` does, for text and chat prompts.
    func testRewardModelMatchesTRL() throws {
        let text = String(decoding: try Data(contentsOf: GRPOFixtures.url("reward_model.json")), as: UTF8.self)
        guard case .object(let batches) = try JSONParser.parse(text) else { return XCTFail("reward_model.json") }
        let directory = GRPOFixtures.url("reward_model")
        let reward = try XCTUnwrap(try BuiltInRewards.make("model:" + directory.path, maxCompletionLength: 8) as? RewardModelReward)
        XCTAssertEqual(reward.name, "reward_model")
        var worst = 0.0
        for (kind, batch) in batches.entries {
            guard case .array(let prompts)? = batch["prompts"], case .array(let completions)? = batch["completions"],
                  case .array(let rewards)? = batch["rewards"] else { return XCTFail("reward_model.json: \(kind)") }
            let samples = zip(prompts, completions).map { prompt, completion in
                guard case .string(let completion) = completion else { preconditionFailure("completion text") }
                return RewardSample(prompt: prompt, completion: completion, completionIds: [])
            }
            for (actual, expected) in zip(try reward.score(samples), rewards) {
                guard case .double(let expected) = expected else { return XCTFail("reward_model.json: \(kind) rewards") }
                let error = Swift.abs(try XCTUnwrap(actual) - expected) / Swift.max(Swift.abs(expected), 1)
                worst = Swift.max(worst, error)
                XCTAssertLessThanOrEqual(error, 1e-5, "\(kind): \(String(describing: actual)) vs TRL \(expected)")
            }
        }
        XCTAssertEqual(batches.count, 2)
        print(String(format: "  reward model: max error %.1e", worst))
    }

    /// `reward_model_name_or_path` (TRL's `grpo`/`rloo` script field) scores first, before `reward_funcs`,
    /// as the scripts build their reward list; a path that is neither a directory nor a Hub id names the field.
    func testRewardModelNameOrPathComesFirst() throws {
        let directory = GRPOFixtures.url("reward_model")
        let resolved = try resolve(RLOOConfig.self, "reward_model_name_or_path: \(directory.path)\nreward_funcs: [format]")
        XCTAssertEqual(resolved.report.errors, [])
        let functions = try BuiltInRewards.make(config: resolved.config)
        XCTAssertEqual(functions.map(\.name), ["reward_model", "format"])
        XCTAssert(functions[0] is RewardModelReward)
        let missing = try resolve(GRPOConfig.self, "reward_model_name_or_path: /nonexistent/rm")
        XCTAssertThrowsError(try BuiltInRewards.make(config: missing.config)) { error in
            XCTAssert("\(error)".contains("reward_model_name_or_path /nonexistent/rm"), "\(error)")
        }
    }

    func testRewardModelRejectsACausalModel() {
        XCTAssertThrowsError(try RewardModelReward(directory: GRPOFixtures.url("model"))) { error in
            XCTAssert("\(error)".contains("is a causal language model (llama); a reward model is a sequence classifier"), "\(error)")
        }
    }
}
