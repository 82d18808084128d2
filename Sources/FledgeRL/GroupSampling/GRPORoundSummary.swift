/// What every process needs of a whole GRPO round once each has generated and scored its rows:
/// the rewards of every row in row order (for group advantages, as TRL gathers them), the loss
/// tokens of the round (TRL's `num_items_in_batch`), and the completion-length metrics.
struct GRPORoundSummary {
    /// Every function's reward for every row of the round, in row order.
    let scores: RewardScores
    /// Loss tokens over the round.
    let lossTokens: Int
    /// TRL's `completions/*` metrics over the round.
    let lengthMetrics: [String: Double]

    /// Gathers the round of `rowCount` rows from every process; this process generated `rows`
    /// (row numbers), whose completions and scores are given in the same order.
    static func gather(rows: [Int], completions: [GRPORollout.Completion], scores: RewardScores, rowCount: Int,
                       communicator: any Communicator) throws -> GRPORoundSummary {
        // One record per row: its number, loss tokens, length, truncation, then each reward (NaN: none).
        let width = 4 + scores.names.count
        var local: [Double] = []
        for (index, (row, completion)) in zip(rows, completions).enumerated() {
            local += [Double(row), Double(completion.lossTokens), Double(completion.modelTokenCount),
                      completion.isTruncated ? 1 : 0]
            local += scores.values.map { $0[index] ?? .nan }
        }
        let records = Array(try communicator.allGather(local, purpose: "the rewards of a generation round").joined())
        var values = [[Double?]](repeating: [Double?](repeating: nil, count: rowCount), count: scores.names.count)
        var lengths = [Double](repeating: 0, count: rowCount)
        var truncated = [Bool](repeating: false, count: rowCount)
        var seen = [Bool](repeating: false, count: rowCount)
        var lossTokens = 0
        for start in stride(from: 0, to: records.count, by: width) {
            let row = Int(records[start])
            guard (0..<rowCount).contains(row), !seen[row] else {
                throw CommunicatorError.mismatch("row \(row) of a generation round of \(rowCount) rows came from two processes "
                    + "or is out of range; every process must run the same config and dataset")
            }
            seen[row] = true
            lossTokens += Int(records[start + 1])
            lengths[row] = records[start + 2]
            truncated[row] = records[start + 3] != 0
            for function in values.indices {
                let reward = records[start + 4 + function]
                values[function][row] = reward.isNaN ? nil : reward
            }
        }
        if let missing = seen.firstIndex(of: false) {
            throw CommunicatorError.mismatch("no process generated row \(missing) of a generation round of \(rowCount) rows; "
                + "every process must run the same config and dataset")
        }
        return GRPORoundSummary(scores: RewardScores(names: scores.names, values: values), lossTokens: lossTokens,
                                lengthMetrics: lengthMetrics(lengths: lengths, truncated: truncated))
    }

    /// TRL's `completions/*` metrics.
    static func lengthMetrics(lengths: [Double], truncated: [Bool]) -> [String: Double] {
        let terminated = zip(lengths, truncated).filter { !$0.1 }.map(\.0)
        func mean(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        return [
            "completions/mean_length": mean(lengths),
            "completions/min_length": lengths.min() ?? 0,
            "completions/max_length": lengths.max() ?? 0,
            "completions/clipped_ratio": Double(lengths.count - terminated.count) / Double(max(lengths.count, 1)),
            "completions/mean_terminated_length": mean(terminated),
            "completions/min_terminated_length": terminated.min() ?? 0,
            "completions/max_terminated_length": terminated.max() ?? 0,
        ]
    }
}
