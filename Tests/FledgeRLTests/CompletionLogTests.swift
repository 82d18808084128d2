import FledgeLM
import XCTest
@testable import FledgeRL

/// `log_completions`: `completions.jsonl` holds exactly the completions trained on, with the rewards
/// that made their advantages and the advantages the loss used; the terminal table fits 80 columns.
final class CompletionLogTests: TemporaryDirectoryTestCase {
    private let model = GRPOTrainingTests.modelDirectory

    /// Records the completions of every micro-batch the loss is given.
    final class RecordingAlgorithm<Inner: TrainingAlgorithm>: TrainingAlgorithm where Inner.MicroBatch == RoundMicroBatch {
        let inner: Inner
        private(set) var trained: [[GRPORollout.Completion]] = []

        init(_ inner: Inner) { self.inner = inner }

        var microBatchesPerEpoch: Int { inner.microBatchesPerEpoch }
        var lossScaling: LossScaling { inner.lossScaling }
        var completionLog: CompletionLog? { inner.completionLog }
        func microBatches(for position: StepPosition) throws -> [RoundMicroBatch] { try inner.microBatches(for: position) }
        func loss(of batch: RoundMicroBatch) throws -> MicroBatchLoss {
            trained.append(batch.completions)
            return try inner.loss(of: batch)
        }
    }

    private func config(_ fields: [String: String]) throws -> GRPOConfig {
        var settings = [
            "model_name_or_path": model.path, "output_dir": directory.path + "/run", "use_peft": "true",
            "lora_target_modules": "all-linear", "reward_funcs": "[answer, \"length:3\"]", "per_device_train_batch_size": "8",
            "gradient_accumulation_steps": "2", "num_generations": "4", "max_completion_length": "3",
            "learning_rate": "0.003", "logging_steps": "1", "save_strategy": "\"no\"", "gradient_checkpointing": "false",
            "log_completions": "true", "num_completions_to_print": "5", "max_steps": "3", "beta": "0",
        ]
        settings.merge(fields) { $1 }
        let resolved = try resolve(GRPOConfig.self, settings.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n"))
        XCTAssert(resolved.report.isUsable, "\(resolved.report.messages)")
        return resolved.config
    }

    func testLoggedCompletionsAreWhatTheLossTrainedOn() throws {
        let config = try config([:])
        let model = try TrainingModels.load(config.run, seed: config.training.seed, gradientCheckpointing: false)
        let tokenizer = try TrainingModels.tokenizer(config.run)
        let problems = ArithmeticTask().problems(count: 16, seed: 5)
        let dataset = PromptDataset(rows: problems.map { $0.row(tokenizer: tokenizer) }, file: URL(fileURLWithPath: "(problems)"))
        let rewards = try BuiltInRewards.make(config: config)
        let algorithm = RecordingAlgorithm(try GRPO(model: model, tokenizer: tokenizer, dataset: dataset, rewards: rewards, config: config))
        _ = try Trainer(algorithm: algorithm, model: model, arguments: config.training).train()

        let logged = try CompletionLogFile.read(config.training.outputDirectory.appendingPathComponent("completions.jsonl"))
        XCTAssertEqual(logged.map(\.step), (1...3).flatMap { Array(repeating: $0, count: 16) })
        // Each step is one round of 16 rows in two micro-batches of 8, logged in the order trained.
        XCTAssertEqual(algorithm.trained.count, 6)
        let answers = Dictionary(uniqueKeysWithValues: problems.map { ($0.prompt, $0.answer) })
        let advantages = try GRPOAdvantages(functionNames: rewards.map(\.name), rewardWeights: nil, groupSize: 4, scaleRewards: .group)
        for step in 0..<3 {
            let trained = algorithm.trained[2 * step] + algorithm.trained[2 * step + 1]
            let entries = logged.filter { $0.step == step + 1 }.map(\.completion)
            XCTAssertEqual(entries.map(\.advantage), trained.map { Double($0.advantage) as Double? }, "step \(step + 1)")
            XCTAssertEqual(entries.map(\.length), trained.map(\.completionIds.count))
            XCTAssertEqual(entries.map(\.clipped), trained.map(\.isTruncated))
            XCTAssertEqual(entries.map(\.completion), trained.map { tokenizer.decode($0.completionIds, skipSpecialTokens: true) })
            XCTAssertEqual(entries.map(\.prompt), trained.map { .string(tokenizer.decode($0.promptIds, skipSpecialTokens: true)) })
            // The logged rewards are the reward functions' on the logged text, and give the logged advantages.
            let samples = entries.map { entry in
                RewardSample(prompt: entry.prompt, completion: entry.completion, completionIds: Array(repeating: 0, count: entry.length),
                             columns: JSONObject([("answer", .string(answers[entry.prompt.stringValue!]!))]))
            }
            let rescored = try RewardScores.score(samples, with: rewards)
            for (index, entry) in entries.enumerated() {
                XCTAssertEqual(entry.rewardNames, ["answer", "length"])
                XCTAssertEqual(entry.rewards, rescored.values.map { $0[index] })
            }
            let groups = Dictionary(grouping: entries.indices, by: { entries[$0].prompt.stringValue! })
            XCTAssertEqual(groups.count, 4)
            for (prompt, members) in groups {
                XCTAssertEqual(members.count, 4, prompt)
                let scores = RewardScores(names: entries[0].rewardNames,
                                          values: [0, 1].map { function in members.map { entries[$0].rewards[function] } })
                let expected = advantages.compute(scores).advantages
                for (member, value) in zip(members, expected) {
                    XCTAssertEqual(entries[member].advantage!, value, accuracy: 1e-6, "\(prompt)")
                }
            }
        }
        let table = CompletionTable.lines(algorithm.completionLog!, step: 3)
        XCTAssertEqual(table.count, 2 + 5 + 1, table.joined(separator: "\n"))
        XCTAssert(table.allSatisfy { $0.count <= CompletionTable.width }, table.joined(separator: "\n"))
        XCTAssert(table.last!.hasPrefix("reward: sum of answer, length"), table.joined(separator: "\n"))
    }

    /// Long and multi-line prompts and completions are cut to keep every line within 80 columns.
    func testTableFitsEightyColumns() {
        let long = String(repeating: "word ", count: 60) + "\nlast line"
        let completions = [
            LoggedCompletion(prompt: .string(long), completion: long, rewardNames: ["a"], rewards: [123456.789], advantage: -1234.5,
                             length: 123456, clipped: true),
            LoggedCompletion(prompt: .array([.object(JSONObject([("role", .string("user")), ("content", .string("hi"))]))]),
                             completion: "", rewardNames: ["a"], rewards: [nil], advantage: 0, length: 1, clipped: false),
        ]
        let lines = CompletionTable.lines(CompletionLog(completions: completions, printLimit: nil), step: 7)
        XCTAssertEqual(lines.count, 5)
        for line in lines { XCTAssertLessThanOrEqual(line.count, 80, line) }
        XCTAssert(lines[2].hasPrefix("…"), lines[2])
        XCTAssert(lines[2].contains("⏎"), lines[2])
        XCTAssert(lines[3].hasPrefix("hi "), lines[3])
        XCTAssert(lines[4].contains("clipped"), lines[4])
    }

    /// A resumed run drops the completion lines of steps after its checkpoint.
    func testResumeDropsLaterCompletionLines() throws {
        let url = directory.appendingPathComponent("completions.jsonl")
        let entry = LoggedCompletion(prompt: .string("1+1="), completion: "2", rewardNames: ["answer"], rewards: [1], advantage: 0.5,
                                     length: 2, clipped: false)
        var file = try CompletionLogFile(directory: directory, completedSteps: 0)
        for step in 1...4 { try file.append(CompletionLog(completions: [entry, entry], printLimit: nil), step: step) }
        file = try CompletionLogFile(directory: directory, completedSteps: 2)
        XCTAssertEqual(try CompletionLogFile.read(url).map(\.step), [1, 1, 2, 2])
        XCTAssertEqual(try CompletionLogFile.read(url).first?.completion, entry)
    }

    /// An entry without rewards or advantage (distillation's) is written without those keys, reads
    /// back equal, and shows `-` in the table; a present but malformed `rewards` or `advantage` is refused.
    func testEntriesWithoutRewardsRoundTrip() throws {
        let entry = LoggedCompletion(prompt: .string("Say hi"), completion: "hi", length: 2, clipped: true)
        let line = entry.json(step: 3)
        XCTAssertNil(line["rewards"])
        XCTAssertNil(line["advantage"])
        let read = try XCTUnwrap(LoggedCompletion.read(line))
        XCTAssertEqual(read.step, 3)
        XCTAssertEqual(read.completion, entry)
        let table = CompletionTable.lines(CompletionLog(completions: [entry], printLimit: nil), step: 3)
        XCTAssert(table[2].hasSuffix("       -       -    2*"), table[2])
        for (key, value) in [("rewards", JSONValue.string("none")), ("advantage", .string("high"))] {
            guard case .object(let fields) = line else { return XCTFail("not an object") }
            XCTAssertNil(LoggedCompletion.read(.object(JSONObject(fields.entries.map { ($0.key, $0.value) } + [(key, value)]))), key)
        }
    }
}
