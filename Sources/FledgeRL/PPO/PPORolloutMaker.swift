import FledgeLM
import FledgeTensor

/// One PPO rollout: the prompts, the sampled responses, and what the PPO epochs train toward.
public struct PPORolloutBatch {
    /// A prompt and its response: the sampled ids up to and including the stop token (TRL's
    /// `truncate_response`), cut before any pad token.
    public struct Row {
        public let promptIds: [Int]
        public let responseIds: [Int]
    }

    public let rows: [Row]
    public let targets: PPOTargets
    /// `objective/kl`, `objective/entropy`, `objective/non_score_reward`, `objective/rlhf_reward`,
    /// `objective/scores` and `val/num_eos_tokens`.
    public let metrics: [String: Double]
}

/// Samples and scores PPO rollouts as TRL 1.12's `PPOTrainer.train` does before its PPO epochs:
/// responses of at most `response_length` tokens at `temperature` (+1e−7, TRL's guard), stopped at
/// the stop token; the policy's and the reference's log-probs and the value model's estimates of
/// every response position; the scores, less `missing_eos_penalty` without EOS; then ``PPOTargets``.
struct PPORolloutMaker {
    let policy: LanguageModel
    let value: SequenceClassifier
    let reference: ReferencePolicy
    let tokenizer: Tokenizer
    let scorer: PPOScorer
    let settings: PPOSettings
    let responseLength: Int
    let temperature: Double
    /// Ends responses (TRL's `stop_token_id`); nil: every response runs to `response_length`.
    let stopTokenID: Int?
    /// The tokenizer's EOS, for `missing_eos_penalty` and `val/num_eos_tokens`.
    let eosTokenID: Int?
    let padTokenID: Int
    let missingEOSPenalty: Double?
    /// Rows per no-grad forward pass (`local_rollout_forward_batch_size`).
    let forwardBatchSize: Int

    private var scoringTemperature: Float { Float(temperature + 1e-7) }

    /// Samples a response to each prompt with `seed` and scores them.
    func rollout(_ prompts: [PromptDataset.Row], seed: UInt64) throws -> PPORolloutBatch {
        var options = SamplingOptions()
        options.maxNewTokens = responseLength
        options.temperature = scoringTemperature
        options.seed = seed
        if let stopTokenID { options.eosTokenIds = [stopTokenID] } else { options.ignoreEOS = true }
        let generated = policy.generate(prompts.map(\.promptIds), options: options)
        return try score(prompts, responses: generated.map(\.ids))
    }

    /// The rollout of given responses (the sampled ids of each prompt).
    func score(_ prompts: [PromptDataset.Row], responses: [[Int]]) throws -> PPORolloutBatch {
        precondition(prompts.count == responses.count, "\(responses.count) responses for \(prompts.count) prompts")
        // TRL's postprocessed responses; their tokens before the first pad are the real ones (a pad id
        // equal to the stop token makes the stop token padding, as in TRL).
        let postprocessed = responses.map { response in
            let ids = Array(response.prefix(responseLength))
            guard let stopTokenID, let stop = ids.firstIndex(of: stopTokenID) else { return ids }
            return Array(ids[...stop])
        }
        let rows = zip(prompts, postprocessed).map { prompt, ids in
            PPORolloutBatch.Row(promptIds: prompt.promptIds, responseIds: Array(ids.prefix { $0 != padTokenID }))
        }
        let sequences = rows.map { $0.promptIds + $0.responseIds }, starts = rows.map(\.promptIds.count)
        let counts = rows.map(\.responseIds.count)
        let logProbs = policy.scoreWithoutGrad(sequences, scoredFrom: starts, temperature: scoringTemperature,
                                               batchSize: forwardBatchSize)
        let referenceLogProbs = reference.score(sequences, scoredFrom: starts, temperature: scoringTemperature,
                                                batchSize: forwardBatchSize)
        // The value of position t is read where response token t is predicted: from the last prompt
        // token to the last response token, one past the end unless the response fills the window.
        let valueCounts = counts.map { Swift.min($0 + 1, responseLength) }
        let values = Tensor.withoutGrad {
            stride(from: 0, to: rows.count, by: forwardBatchSize).flatMap { start in
                let range = start..<Swift.min(start + forwardBatchSize, rows.count)
                return value.positionScores(range.map { Array(sequences[$0].prefix(starts[$0] - 1 + valueCounts[$0])) },
                                            from: range.map { starts[$0] - 1 }).toArray()
            }
        }
        var scores = try self.scores(prompts, rows: rows)
        let hasEOS = postprocessed.map { ids in eosTokenID.map(ids.contains) ?? false }
        if let missingEOSPenalty {
            for index in scores.indices where !hasEOS[index] { scores[index] -= Float(missingEOSPenalty) }
        }
        let rollout = PPORollout(responseLength: responseLength, logProbs: logProbs.grid(width: responseLength).toArray(),
                                 referenceLogProbs: referenceLogProbs.grid(width: responseLength).toArray(),
                                 values: TokenRows(counts: valueCounts, width: responseLength).grid(values).toArray(),
                                 scores: scores, sequenceLengths: counts.map { $0 - 1 })
        let targets = PPOTargets(rollout, settings: settings)
        let eosTokens = eosTokenID.map { eos in responses.reduce(0) { $0 + $1.filter { $0 == eos }.count } } ?? 0
        return PPORolloutBatch(rows: rows, targets: targets,
                               metrics: targets.metrics.merging(["val/num_eos_tokens": Double(eosTokens)]) { $1 })
    }

    /// Each response's score: the reward model's first score at its last token, or the sum of the
    /// reward functions' values (a response no function scores is an error).
    private func scores(_ prompts: [PromptDataset.Row], rows: [PPORolloutBatch.Row]) throws -> [Float] {
        switch scorer {
        case .rewardModel(let model):
            return Tensor.withoutGrad {
                stride(from: 0, to: rows.count, by: forwardBatchSize).flatMap { start in
                    model.classify(rows[start..<Swift.min(start + forwardBatchSize, rows.count)].map { $0.promptIds + $0.responseIds })
                        .map { $0[0] }
                }
            }
        case .functions(let functions):
            let samples = zip(prompts, rows).map { prompt, row in
                RewardSample(prompt: prompt.prompt, completion: tokenizer.decode(row.responseIds, skipSpecialTokens: true),
                             completionIds: row.responseIds, columns: prompt.columns)
            }
            let scores = try RewardScores.score(samples, with: functions)
            return try samples.indices.map { index in
                let values = scores.values.compactMap { $0[index] }
                guard !values.isEmpty else {
                    throw RewardError("no reward function scored the response to prompt \(index + 1) of the rollout "
                        + "(\(scores.names.joined(separator: ", ")) all gave none); PPO needs a score for every response")
                }
                return Float(values.reduce(0, +))
            }
        }
    }
}
