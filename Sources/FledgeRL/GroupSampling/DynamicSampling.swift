import FledgeTensor

/// DAPO's dynamic sampling (Yu et al. 2025, "DAPO", §3.2; verl's `filter_groups`), which TRL lacks
/// (its issue #3708): a group whose completions all have advantage 0 — equal rewards, zero spread,
/// so no learning signal — is dropped, and further prompts are sampled until the round has its
/// `promptsPerRound` groups with signal, at most `maxBatches` generation batches per round (the
/// first included). Each further batch samples as many prompts as the round holds, as DAPO samples
/// whole batches; groups beyond those needed are discarded. A round still short after the last
/// batch is filled with dropped groups (their advantages are 0, so they add no gradient), and
/// `dynamic_sampling/filled_frac` says how much of it was.
///
/// Departures, documented in docs/grpo.md: the further prompts of batch `b` are a fresh draw from
/// the whole dataset (seeded by the seed, the epoch, the round and `b`, so rounds stay pure
/// functions of them), which may repeat prompts of the epoch; the reward metrics are those of the
/// first batch (what training would have seen without the filter); with `scale_rewards: batch` each
/// batch is normalised by its own spread. One process only.
struct DynamicSampling {
    /// Generation batches per round at most (`dynamic_sampling_max_batches`).
    let maxBatches: Int

    /// The round of `prompts` (`groupSize` completions each), refilled from `morePrompts(b)` (batch
    /// `b` ≥ 1's prompts) with sampling seeds `seed(b)`, its kept rows shuffled with `shuffleSeed`.
    func rollout(_ prompts: [PromptDataset.Row], groupSize: Int, maker: GRPORolloutMaker, seed: (Int) -> UInt64,
                 shuffleSeed: UInt64, morePrompts: (Int) -> [PromptDataset.Row]) throws -> GRPORollout {
        let wanted = prompts.count
        var kept: [Range<Int>] = [], dropped: [Range<Int>] = []
        var completions: [GRPORollout.Completion] = [], logged: [LoggedCompletion] = []
        var metrics: [String: Double]?
        var batches = 0, generatedGroups = 0
        var batch = prompts
        while batches < maxBatches && kept.count < wanted {
            if batches > 0 { batch = morePrompts(batches) }
            let rollout = try maker.rollout(batch, groupSize: groupSize, seed: seed(batches), rows: Array(0..<batch.count * groupSize))
            batches += 1
            metrics = metrics ?? rollout.metrics
            let offset = completions.count
            completions += rollout.completions
            logged += rollout.logged
            for group in 0..<batch.count {
                let rows = offset + group * groupSize..<offset + (group + 1) * groupSize
                generatedGroups += 1
                if completions[rows].allSatisfy({ $0.advantage == 0 }) {
                    dropped.append(rows)
                } else if kept.count < wanted {
                    kept.append(rows)
                }
            }
        }
        let filled = min(wanted - kept.count, dropped.count)
        let groups = kept + dropped.prefix(filled)
        var generator = SeededGenerator(seed: shuffleSeed)
        let order = groups.flatMap { Array($0) }.shuffled(using: &generator)
        // Rows of several batches: renumbered in the round's order, so that each keys its own NEFTune noise.
        var chosen = order.map { completions[$0] }
        for index in chosen.indices { chosen[index].roundRow = index }
        var result = GRPORollout(completions: chosen, generationBatchTokens: order.reduce(0) { $0 + completions[$1].lossTokens },
                                 metrics: metrics ?? [:])
        result.paddedLength = GRPORollout.paddedLength(of: chosen)
        if !logged.isEmpty { result.logged = order.map { logged[$0] } }
        result.metrics["dynamic_sampling/generation_batches"] = Double(batches)
        result.metrics["dynamic_sampling/dropped_frac"] = Double(dropped.count) / Double(generatedGroups)
        result.metrics["dynamic_sampling/filled_frac"] = Double(filled) / Double(wanted)
        return result
    }
}
