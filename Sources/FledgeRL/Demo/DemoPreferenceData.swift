import Foundation
import FledgeTensor

/// Data for running DPO, PPO and RLOO on the demo's arithmetic model: the training problems of the
/// demo's split (never the held-out ones) as prompts with their `answer`, and as preference pairs
/// whose rejected answer is off by 1 to 10 — the mistakes the base model learned from its noisy data.
public enum DemoPreferenceData {
    /// Writes `prompts.jsonl` (`prompt`, `answer`) and `preferences.jsonl` (`prompt`, `chosen`,
    /// `rejected`) for the first `count` training problems into `directory`.
    public static func write(to directory: URL, count: Int, seed: UInt64 = 11) throws {
        let split = ArithmeticTask().split(seed: DemoBaseModel.splitSeed, train: count, heldOut: GRPODemo.heldOutCount)
        var generator = SeededGenerator(seed: seed)
        var prompts: [String] = [], pairs: [String] = []
        for problem in split.train {
            let answer = Int(problem.answer)!
            let offset = Int.random(in: 1...10, using: &generator)
            let wrong = Bool.random(using: &generator) || answer < offset ? answer + offset : answer - offset
            prompts.append(#"{"prompt": "\#(problem.prompt)", "answer": "\#(problem.answer)"}"#)
            pairs.append(#"{"prompt": "\#(problem.prompt)", "chosen": "\#(problem.answer)", "rejected": "\#(wrong)"}"#)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(Data((prompts.joined(separator: "\n") + "\n").utf8), to: directory.appendingPathComponent("prompts.jsonl"))
        try AtomicFile.write(Data((pairs.joined(separator: "\n") + "\n").utf8), to: directory.appendingPathComponent("preferences.jsonl"))
    }
}
