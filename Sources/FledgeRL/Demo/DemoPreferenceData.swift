import Foundation
import FledgeTensor

/// Data for running DPO, PPO and RLOO on the demo's arithmetic model: the training problems of the
/// demo's split (never the held-out ones) as prompts with their `answer`, and as preference pairs
/// whose rejected answer is off by 1 to 10 — the mistakes the base model learned from its noisy data.
public enum DemoPreferenceData {
    /// Writes `prompts.jsonl` (`prompt`, `answer`) and `preferences.jsonl` (`prompt`, `chosen`,
    /// `rejected`) for the first `count` training problems into `directory`, and the dataset folder
    /// `reward/` for `fledge reward`: the same pairs as its `train` split and pairs of the held-out
    /// problems (never trained on) as its `test` split.
    public static func write(to directory: URL, count: Int, seed: UInt64 = 11) throws {
        let split = ArithmeticTask().split(seed: DemoBaseModel.splitSeed, train: count, heldOut: GRPODemo.heldOutCount)
        let prompts = split.train.map { #"{"prompt": "\#($0.prompt)", "answer": "\#($0.answer)"}"# }
        let pairs = preferenceLines(split.train, seed: seed)
        let rewardDirectory = directory.appendingPathComponent("reward")
        try FileManager.default.createDirectory(at: rewardDirectory, withIntermediateDirectories: true)
        func write(_ lines: [String], _ url: URL) throws {
            try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: url)
        }
        try write(prompts, directory.appendingPathComponent("prompts.jsonl"))
        try write(pairs, directory.appendingPathComponent("preferences.jsonl"))
        try write(pairs, rewardDirectory.appendingPathComponent("train.jsonl"))
        try write(preferenceLines(split.heldOut, seed: seed + 1), rewardDirectory.appendingPathComponent("test.jsonl"))
    }

    /// A preference pair per problem: the right answer chosen, one off by 1 to 10 rejected.
    private static func preferenceLines(_ problems: [ArithmeticTask.Problem], seed: UInt64) -> [String] {
        var generator = SeededGenerator(seed: seed)
        return problems.map { problem in
            let answer = Int(problem.answer)!
            let offset = Int.random(in: 1...10, using: &generator)
            let wrong = Bool.random(using: &generator) || answer < offset ? answer + offset : answer - offset
            return #"{"prompt": "\#(problem.prompt)", "chosen": "\#(problem.answer)", "rejected": "\#(wrong)"}"#
        }
    }
}
