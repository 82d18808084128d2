import FledgeLM

/// How well a model does on held-out arithmetic problems.
public struct DemoEvaluation: Sendable {
    /// One held-out problem and the model's completion.
    public struct Sample: Sendable {
        public let prompt: String
        public let answer: String
        public let completion: String
        public let isCorrect: Bool
    }

    /// The fraction of completions whose final answer is right.
    public let accuracy: Double
    /// The mean correctness reward (the demo's reward: 1 right, 0 wrong).
    public let meanReward: Double
    /// The mean number of completion tokens (the EOS included).
    public let meanLength: Double
    /// Every problem with its completion, in order.
    public let samples: [Sample]

    /// How every demo samples its held-out answers: as GRPO samples in training (temperature 1, no
    /// filtering, at most 6 new tokens), with a seed fixed by `seed` so that before and after see
    /// the same random draws.
    public static func samplingOptions(model: LanguageModel, seed: Int) -> SamplingOptions {
        var options = SamplingOptions(model.generationConfig)
        options.greedy = false
        options.temperature = 1
        options.topK = 0
        options.topP = 1
        options.maxNewTokens = 6
        options.seed = UInt64(bitPattern: Int64(seed)) &+ 17
        return options
    }

    /// The held-out problems every demo evaluates on (disjoint from all training data).
    public static var heldOutProblems: [ArithmeticTask.Problem] {
        ArithmeticTask().split(seed: DemoBaseModel.splitSeed, train: GRPODemo.trainCount, heldOut: GRPODemo.heldOutCount).heldOut
    }

    /// Samples one completion per problem from `model` with `options` (the demo samples as GRPO
    /// does, at the training temperature, with a fixed seed) and scores it with the answer reward,
    /// as `fledge eval` would (``ModelEvaluation``).
    public init(model: LanguageModel, tokenizer: Tokenizer, problems: [ArithmeticTask.Problem],
                options: SamplingOptions) throws {
        let evaluation = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: problems.map { $0.row(tokenizer: tokenizer) },
                                             rewards: [AnswerReward(column: "answer")], options: options)
        samples = zip(problems, evaluation.rows).map { problem, row in
            Sample(prompt: problem.prompt, answer: problem.answer, completion: row.completions[0], isCorrect: row.correct[0])
        }
        accuracy = evaluation.accuracy!
        meanReward = evaluation.meanReward
        meanLength = evaluation.meanLength
    }
}

extension ArithmeticTask.Problem {
    /// The problem as a prompt dataset row: its text prompt with the reference in column `answer`.
    func row(tokenizer: Tokenizer) -> PromptDataset.Row {
        PromptDataset.Row(prompt: .string(prompt), promptIds: tokenizer.encode(prompt, addSpecialTokens: true),
                          columns: JSONObject([("answer", .string(answer))]))
    }
}
