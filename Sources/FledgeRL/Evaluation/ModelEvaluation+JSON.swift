/// What `fledge eval` writes: the summary line scripts read and one line per prompt.
extension ModelEvaluation {
    /// `{"rows": …, "accuracy": …, "accuracy_ci95": [lo, hi], "mean_reward": …, "pass_at_k": {"1": …, …},
    /// "mean_length": …, "seconds": …}` in that key order; accuracy is a fraction, and it and its
    /// interval are null (pass_at_k empty) when no reward function has a full score.
    public var summaryJSON: JSONValue {
        let interval = accuracyInterval.map { JSONValue.array([.double($0.lower), .double($0.upper)]) } ?? .null
        return .object(JSONObject([
            ("rows", .int(rows.count)),
            ("accuracy", accuracy.map(JSONValue.double) ?? .null),
            ("accuracy_ci95", interval),
            ("mean_reward", .double(meanReward)),
            ("pass_at_k", .object(JSONObject(passAtK.map { ("\($0.k)", .double($0.value)) }))),
            ("mean_length", .double(meanLength)),
            ("seconds", .double(seconds)),
        ]))
    }

    /// One prompt as a JSON line of `--output`: `{"prompt": …, "completions": [...], "rewards": {NAME:
    /// [one per completion, null where none]}, "reward": [weighted sums], "correct": [...]}`.
    public func json(of row: Row) -> JSONValue {
        .object(JSONObject([
            ("prompt", row.prompt),
            ("completions", .array(row.completions.map(JSONValue.string))),
            ("rewards", .object(JSONObject(zip(rewardNames, row.rewards).map { name, values in
                (name, .array(values.map { $0.map(JSONValue.double) ?? .null }))
            }))),
            ("reward", .array(row.totals.map(JSONValue.double))),
            ("correct", .array(row.correct.map(JSONValue.bool))),
        ]))
    }
}
