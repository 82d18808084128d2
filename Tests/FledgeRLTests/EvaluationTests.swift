import Foundation
import XCTest
import FledgeLM
@testable import FledgeRL

/// `fledge eval` and ``ModelEvaluation`` against references: pass@k against Chen et al.'s numpy
/// code and the 95 % interval against statsmodels (both recorded by
/// Scripts/reference/make_eval_fixtures.py), greedy accuracy against transformers' generation on the
/// demo model with the same answer rule, and the JSON the command prints.
final class EvaluationTests: TemporaryDirectoryTestCase {
    private static let model = GRPOTrainingTests.modelDirectory

    private func fixture(_ name: String) throws -> JSONValue {
        try JSONParser.parse(String(contentsOf: fixtureURL("eval/" + name), encoding: .utf8))
    }

    private func number(_ value: JSONValue?) -> Double {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: .nan
        }
    }

    func testPassAtKMatchesChensEstimator() throws {
        guard case .array(let cases) = try fixture("estimators.json")["pass_at_k"] else { return XCTFail("no pass_at_k cases") }
        XCTAssertGreaterThan(cases.count, 10)
        for item in cases {
            let n = Int(number(item["n"])), c = Int(number(item["c"])), k = Int(number(item["k"]))
            let estimate = PassAtK.estimate(samples: n, correct: c, k: k)
            XCTAssertEqual(estimate, number(item["value"]), accuracy: 1e-12, "pass@\(k) with \(c) of \(n) correct")
        }
        // The mean over problems is the mean of the per-problem estimates.
        XCTAssertEqual(PassAtK.mean(samples: 4, correct: [0, 1, 4], k: 2), (0 + 0.5 + 1) / 3, accuracy: 1e-15)
        XCTAssertEqual(PassAtK.reportedKs(samples: 1), [1])
        XCTAssertEqual(PassAtK.reportedKs(samples: 8), [1, 2, 4, 8])
        XCTAssertEqual(PassAtK.reportedKs(samples: 6), [1, 2, 4, 6])
    }

    func testWilsonIntervalMatchesStatsmodels() throws {
        guard case .array(let cases) = try fixture("estimators.json")["wilson"] else { return XCTFail("no Wilson cases") }
        for item in cases {
            let successes = number(item["successes"]), trials = Int(number(item["trials"]))
            let interval = WilsonInterval(successes: successes, trials: trials)
            XCTAssertEqual(interval.lower, number(item["lower"]), accuracy: 1e-12, "\(successes) of \(trials)")
            XCTAssertEqual(interval.upper, number(item["upper"]), accuracy: 1e-12, "\(successes) of \(trials)")
        }
    }

    /// Greedy completions and accuracy on 60 problems equal transformers' (the reference script's).
    func testGreedyAccuracyMatchesTransformers() throws {
        let expected = try fixture("greedy.json")
        guard case .array(let rows) = expected["rows"] else { return XCTFail("no rows") }
        let tokenizer = try Tokenizer(directory: Self.model.path)
        let model = try LanguageModel(directory: Self.model)
        let prompts = try PromptDataset(file: fixtureURL("eval/problems.jsonl"), tokenizer: tokenizer)
        var options = SamplingOptions(model.generationConfig)
        options.greedy = true
        options.maxNewTokens = Int(number(expected["max_new_tokens"]))
        let evaluation = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts.rows,
                                             rewards: [AnswerReward()], options: options, concurrentRows: 16)
        XCTAssertEqual(evaluation.rows.count, rows.count)
        for (row, reference) in zip(evaluation.rows, rows) {
            guard case .array(let ids) = reference["completion_ids"] else { return XCTFail("no completion ids") }
            XCTAssertEqual(row.completionIds[0], ids.map { Int(number($0)) }, "\(reference["prompt"]!)")
            XCTAssertEqual(row.completions[0], reference["completion"]?.stringValue)
            XCTAssertEqual(row.correct[0], reference["correct"] == .bool(true), "\(reference["prompt"]!)")
        }
        let accuracy = number(expected["accuracy"])
        XCTAssertEqual(evaluation.accuracy!, accuracy, accuracy: 1e-12)
        XCTAssert(accuracy > 0.3 && accuracy < 1, "the fixture should hold both right and wrong answers, got \(accuracy)")
        let interval = WilsonInterval(successes: accuracy * Double(rows.count), trials: rows.count)
        XCTAssertEqual(evaluation.accuracyInterval, interval)
        XCTAssertEqual(evaluation.passAtK.map(\.k), [1])
        XCTAssertEqual(evaluation.passAtK[0].value, accuracy, accuracy: 1e-12)
    }

    /// With several sampled completions per prompt, pass@k is the estimator over the recorded
    /// per-prompt counts, pass@1 is the accuracy, and batching does not change what is sampled.
    func testSeveralSamplesReportPassAtKOfTheirCounts() throws {
        let tokenizer = try Tokenizer(directory: Self.model.path)
        let model = try LanguageModel(directory: Self.model)
        let prompts = Array(try PromptDataset(file: fixtureURL("eval/problems.jsonl"), tokenizer: tokenizer).rows.prefix(12))
        var options = SamplingOptions(model.generationConfig)
        options.greedy = false
        options.temperature = 1.5
        options.topK = 0
        options.maxNewTokens = 6
        options.seed = 11
        let evaluation = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts, rewards: [AnswerReward()],
                                             options: options, samplesPerPrompt: 4, concurrentRows: 5)
        let counts = evaluation.rows.map { $0.correct.filter { $0 }.count }
        XCTAssert(counts.contains { $0 > 0 && $0 < 4 }, "some prompt should be answered right only sometimes: \(counts)")
        XCTAssertEqual(evaluation.passAtK.map(\.k), [1, 2, 4])
        for (k, value) in evaluation.passAtK {
            XCTAssertEqual(value, PassAtK.mean(samples: 4, correct: counts, k: k), accuracy: 1e-15)
        }
        XCTAssertEqual(evaluation.passAtK[0].value, evaluation.accuracy!, accuracy: 1e-12)
        let allAtOnce = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts, rewards: [AnswerReward()],
                                            options: options, samplesPerPrompt: 4)
        XCTAssertEqual(allAtOnce.rows.map(\.completionIds), evaluation.rows.map(\.completionIds))
    }

    /// A completion is correct only when every function with a full score gives it; functions
    /// without one do not count, and with none there is no accuracy.
    func testCorrectnessNeedsEveryFullScore() throws {
        let tokenizer = try Tokenizer(directory: Self.model.path)
        let model = try LanguageModel(directory: Self.model)
        let prompts = Array(try PromptDataset(file: fixtureURL("eval/problems.jsonl"), tokenizer: tokenizer).rows.prefix(8))
        var options = SamplingOptions(model.generationConfig)
        options.greedy = true
        options.maxNewTokens = 6
        let answer = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts, rewards: [AnswerReward()], options: options)
        let impossibleFormat = try FormatReward(pattern: "^x$", name: "x")
        let both = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts,
                                       rewards: [AnswerReward(), LengthReward(goal: .shorter(maxLength: 6))], options: options)
        XCTAssertEqual(both.rows.map(\.correct), answer.rows.map(\.correct), "plain length has no full score")
        XCTAssertEqual(both.meanReward, answer.meanReward - answer.meanLength / 6, accuracy: 1e-12)
        let never = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts,
                                        rewards: [AnswerReward(), impossibleFormat], options: options)
        XCTAssertEqual(never.accuracy, 0)
        let none = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: prompts,
                                       rewards: [LengthReward(goal: .shorter(maxLength: 6))], options: options)
        XCTAssertNil(none.accuracy)
        XCTAssertNil(none.accuracyInterval)
        XCTAssert(none.passAtK.isEmpty)
    }

    /// The demo's held-out evaluation runs through ModelEvaluation and still prints the README's
    /// "before" numbers (52.5 %, 0.525, 3.48 tokens).
    func testDemoEvaluationKeepsItsNumbers() throws {
        let tokenizer = try Tokenizer(directory: Self.model.path)
        let model = try LanguageModel(directory: Self.model)
        let evaluation = try DemoEvaluation(model: model, tokenizer: tokenizer, problems: DemoEvaluation.heldOutProblems,
                                            options: DemoEvaluation.samplingOptions(model: model, seed: 3407))
        XCTAssertEqual(String(format: "%.1f%%", evaluation.accuracy * 100), "52.5%")
        XCTAssertEqual(String(format: "%.3f", evaluation.meanReward), "0.525")
        XCTAssertEqual(String(format: "%.2f", evaluation.meanLength), "3.48")
    }

    /// `fledge eval --json` ends with exactly the documented summary line, and --output holds one
    /// line per prompt.
    func testEvalCommandPrintsTheSummaryLine() throws {
        let output = directory.appendingPathComponent("rows.jsonl")
        let result = try runFledge(["eval", "--model", Self.model.path, "--dataset", fixtureURL("eval/problems.jsonl").path,
                                    "--max-new-tokens", "6", "--num-samples", "2", "--temperature", "1", "--top-k", "0",
                                    "--output", output.path, "--json"])
        let last = try XCTUnwrap(result.output.split(separator: "\n").last.map(String.init))
        guard case .object(let summary) = try JSONParser.parse(last) else { return XCTFail("not a JSON object: \(last)") }
        XCTAssertEqual(summary.keys, ["rows", "accuracy", "accuracy_ci95", "mean_reward", "pass_at_k", "mean_length", "seconds"])
        XCTAssertEqual(summary["rows"], .int(60))
        let accuracy = number(summary["accuracy"])
        XCTAssert(accuracy >= 0 && accuracy <= 1, last)
        guard case .array(let interval) = summary["accuracy_ci95"], interval.count == 2 else { return XCTFail(last) }
        XCTAssertLessThanOrEqual(number(interval[0]), accuracy)
        XCTAssertGreaterThanOrEqual(number(interval[1]), accuracy)
        guard case .object(let passAtK) = summary["pass_at_k"] else { return XCTFail(last) }
        XCTAssertEqual(passAtK.keys, ["1", "2"])
        XCTAssertEqual(number(passAtK["1"]), accuracy, accuracy: 1e-12)
        XCTAssertGreaterThanOrEqual(number(passAtK["2"]), accuracy)
        XCTAssert(number(summary["mean_length"]) > 0 && number(summary["seconds"]) >= 0, last)

        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 60)
        guard case .object(let first) = try JSONParser.parse(String(lines[0])) else { return XCTFail("not a JSON object") }
        XCTAssertEqual(first.keys, ["prompt", "completions", "rewards", "reward", "correct"])
        XCTAssertEqual(first["prompt"], .string("60+23="))
        guard case .array(let completions) = first["completions"], case .array(let answers) = first["rewards"]?["answer"] else {
            return XCTFail("\(lines[0])")
        }
        XCTAssertEqual(completions.count, 2)
        XCTAssertEqual(answers.count, 2)
    }

    /// `fledge eval` on the real SmolLM2-135M-Instruct Q4_1 GGUF with chat prompts: the greedy
    /// completions, their correctness and the accuracy equal transformers' on the same file
    /// (`make_eval_fixtures.py --smollm2`). Runs when FLEDGE_SMOLLM2_GGUF names the file.
    func testRealModelGreedyAccuracyMatchesTransformers() throws {
        guard let model = ProcessInfo.processInfo.environment["FLEDGE_SMOLLM2_GGUF"] else {
            throw XCTSkip("set FLEDGE_SMOLLM2_GGUF to the path of SmolLM2-135M-Instruct.Q4_1.gguf to run this test")
        }
        let expected = try fixture("smollm2_greedy.json")
        guard case .array(let rows) = expected["rows"] else { return XCTFail("no rows") }
        let output = directory.appendingPathComponent("rows.jsonl")
        let result = try runFledge(["eval", "--model", model, "--dataset", fixtureURL("eval/smollm2_problems.jsonl").path,
                                    "--max-new-tokens", "\(Int(number(expected["max_new_tokens"])))", "--output", output.path, "--json"])
        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, rows.count)
        for (line, reference) in zip(lines, rows) {
            let row = try JSONParser.parse(String(line))
            guard case .array(let completions) = row["completions"], case .array(let correct) = row["correct"] else {
                return XCTFail("\(line)")
            }
            XCTAssertEqual(completions.first?.stringValue, reference["completion"]?.stringValue, "\(reference["prompt"]!)")
            XCTAssertEqual(correct.first, reference["correct"], "\(reference["prompt"]!)")
        }
        let summary = try JSONParser.parse(String(try XCTUnwrap(result.output.split(separator: "\n").last)))
        XCTAssertEqual(number(summary["accuracy"]), number(expected["accuracy"]), accuracy: 1e-12)
        print("SmolLM2-135M-Instruct Q4_1: greedy accuracy \(number(summary["accuracy"])) on \(rows.count) problems, transformers "
            + "\(number(expected["accuracy"]))")
    }

    func testEvalCommandRefusesBadInput() throws {
        let data = fixtureURL("eval/problems.jsonl").path
        let samples = try runFledge(["eval", "--model", Self.model.path, "--dataset", data, "--num-samples", "0"], expectSuccess: false)
        XCTAssertNotEqual(samples.status, 0)
        XCTAssert(samples.output.contains("--num-samples 0"), samples.output)
        let kwargs = try runFledge(["eval", "--model", Self.model.path, "--dataset", data, "--chat-template-kwargs", "[1]"],
                                   expectSuccess: false)
        XCTAssert(kwargs.output.contains("--chat-template-kwargs must be a JSON object"), kwargs.output)
        let reward = try runFledge(["eval", "--model", Self.model.path, "--dataset", data, "--reward", "answr"], expectSuccess: false)
        XCTAssert(reward.output.contains("did you mean answer?"), reward.output)
    }
}
