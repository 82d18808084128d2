/// Answer correctness: 1 when the completion's final answer (the last `\boxed{…}`, else the text
/// after the last `####`, else the last number) equals the dataset column's reference answer
/// (numerically when both read as numbers), else 0; nil for a row whose reference is null or blank.
public struct AnswerReward: RewardFunction {
    public let name: String
    /// The dataset column holding the reference answer.
    public let column: String

    public init(column: String = "answer", name: String = "answer") {
        self.column = column
        self.name = name
    }

    public func score(_ samples: [RewardSample]) throws -> [Double?] {
        try samples.map { sample in
            guard let value = sample.columns[column] else {
                throw RewardError(
                    "reward function '\(name)': the dataset row has no column '\(column)' (its columns: "
                        + "\(sample.columns.keys.joined(separator: ", "))); add it, or name the answer column "
                        + "as answer:COLUMN in reward_funcs")
            }
            switch value {
            case .string, .int, .double, .null: break
            default:
                throw RewardError(
                    "reward function '\(name)': column '\(column)' holds \(value.kind); it must hold the answer as "
                        + "a string or a number (or null to skip the row)")
            }
            guard let reference = AnswerExtraction.reference(value) else { return nil }
            guard let answer = AnswerExtraction.finalAnswer(in: sample.completion) else { return 0 }
            return AnswerExtraction.same(answer, reference) ? 1 : 0
        }
    }
}
