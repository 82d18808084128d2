import FledgeLM

/// Evaluation during GRPO and RLOO training (`eval_strategy`, `eval_steps`), as TRL's trainers run
/// it: every prompt of the evaluation split gets `num_generations_eval` (default `num_generations`)
/// completions, sampled as in training, and the trainer logs TRL's generation and reward metrics
/// over them with the `eval_` prefix — `eval_reward`, `eval_reward_std`, `eval_rewards/<name>/mean`
/// and `/std`, `eval_frac_reward_zero_std`, `eval_completions/mean_length` and the other
/// `completions/*` — plus Fledge's `eval_accuracy` (``ModelEvaluation``: the share of correct
/// completions, when a reward function has a full score). With tools or an environment the completions are
/// episodes, run as training runs them (``AgentRollouts``), their lengths the model's tokens only, and
/// `eval_tools/call_frequency` and `eval_tools/failure_frequency` are logged too.
///
/// Departures from TRL, documented in docs/evaluation.md: the metrics are computed over the whole
/// evaluation split at once (TRL averages per-batch values over its `per_device_eval_batch_size`
/// batches, which changes only the standard deviations); no evaluation loss (`eval_loss`, `eval_kl`,
/// `eval_entropy`) is computed; and every evaluation samples with the same seed (derived from
/// `seed`), so that two evaluations differ only by the weights, and a resumed run evaluates exactly
/// as an uninterrupted one.
struct GroupSamplingEvaluation {
    let model: LanguageModel
    let tokenizer: Tokenizer
    let dataset: PromptDataset
    let rewards: [any RewardFunction]
    /// The reward metrics' calculator, with groups of `num_generations_eval` completions.
    let advantages: GRPOAdvantages
    let sampling: SamplingOptions
    let samplesPerPrompt: Int
    /// Completions decoded at once (`per_device_eval_batch_size`; episodes decode all at once).
    let batchSize: Int
    /// With tools or an environment: the episodes' rollouts.
    let agents: AgentRollouts?

    /// Evaluation of `dataset` with training's `sampling` (its seed replaced by one derived from
    /// `training.seed`); throws when a prompt leaves no room for `max_completion_length`.
    init(model: LanguageModel, tokenizer: Tokenizer, dataset: PromptDataset, rewards: [any RewardFunction],
         generation: GenerationArguments, training: TrainingArguments, scaleRewards: ScaleRewards, sampling: SamplingOptions,
         agents: AgentRollouts? = nil) throws {
        try dataset.requirePromptsFit(model: model, maxSeqLength: training.maxSeqLength,
                                      completionTokens: generation.maxCompletionLength, completionField: "max_completion_length")
        samplesPerPrompt = generation.numGenerationsEval ?? generation.numGenerations
        advantages = try GRPOAdvantages(functionNames: rewards.map(\.name), rewardWeights: generation.rewardWeights,
                                        groupSize: samplesPerPrompt, scaleRewards: scaleRewards)
        var sampling = sampling
        sampling.seed = UInt64(bitPattern: Int64(training.seed)) ^ 0x0E7A_1BA7_E5EE_D000
        self.sampling = sampling
        self.model = model
        self.tokenizer = tokenizer
        self.dataset = dataset
        self.rewards = rewards
        batchSize = training.perDeviceEvalBatchSize
        self.agents = agents
    }

    /// The evaluation's metrics (without the `eval_` prefix, which the trainer adds).
    func evaluate() throws -> [String: Double] {
        let evaluation = try ModelEvaluation(model: model, tokenizer: tokenizer, prompts: dataset.rows, rewards: rewards,
                                             rewardWeights: advantages.weights, options: sampling,
                                             samplesPerPrompt: samplesPerPrompt, concurrentRows: batchSize, episodes: agents)
        let rows = evaluation.rows
        let scores = RewardScores(names: evaluation.rewardNames, values: evaluation.rewardNames.indices.map { function in
            rows.flatMap { $0.rewards[function] }
        })
        var metrics = advantages.compute(scores).metrics
        metrics.merge(GRPORoundSummary.lengthMetrics(lengths: rows.flatMap { $0.lengths.map(Double.init) },
                                                     truncated: rows.flatMap(\.clipped))) { $1 }
        if agents != nil {
            let completions = Double(max(rows.count * samplesPerPrompt, 1)), calls = Double(evaluation.toolCalls)
            metrics["tools/call_frequency"] = calls / completions
            metrics["tools/failure_frequency"] = calls > 0 ? Double(evaluation.toolFailures) / calls : 0
        }
        if let accuracy = evaluation.accuracy { metrics["accuracy"] = accuracy }
        return metrics
    }
}
