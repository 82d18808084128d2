import FledgeLM
import FledgeTensor

/// On-policy knowledge distillation as TRL 1.16's `DistillationTrainer` runs it: each optimizer
/// step the student samples one completion of each of its prompts (``DistillationRounds``), and is
/// trained to match the frozen teacher's next-token distributions on them under the generalized
/// JSD (``DistillationLoss``), normalised over the completion tokens of the whole step.
///
/// Over several processes (`communicator`), each samples and trains on its share of the step's
/// generation batch (``DistillationRounds``); the token count covers every process and the loss is
/// multiplied by their number (the gradient average divides by it), so `N` processes train as one
/// with `N` times the gradient accumulation.
///
/// With a `toolbox` (`tools`, as TRL's `DistillationTrainer(tools=…)`) the student's samples are multi-turn episodes
/// run as GRPO runs them (``AgentRollouts``, at most `max_tool_calling_iterations` tool-calling turns answered); the
/// teacher scores the same whole sequences, and the tool-result tokens are out of the divergence, the token count and
/// the length metrics, as TRL's `tool_mask` leaves them out.
public final class Distillation: TrainingAlgorithm {
    /// The completions of one micro-step, with their generation batch's token count and metrics.
    public struct MicroBatch {
        let rows: [DistillationRounds.Row]
        let round: DistillationRounds.Round
        /// The NEFTune noise of the student's loss pass, or nil.
        let noise: NEFTuneNoise?
    }

    /// The student.
    public let model: LanguageModel
    /// The frozen teacher.
    public let teacher: LanguageModel
    public let config: DistillationConfig
    private let tokenizer: Tokenizer
    let rounds: DistillationRounds
    private let loss: DistillationLoss
    public let communicator: any Communicator

    /// Distillation of `teacher` into `model` on the prompts of `dataset`. The teacher must share the
    /// student's vocabulary; its weights are never trained. Each of the `communicator`'s processes samples
    /// `per_device_train_batch_size` completions per micro-batch. With a `toolbox` (its stateless tools only: TRL's
    /// `DistillationTrainer` takes no environment) each completion is a multi-turn episode with its tools.
    public init(model: LanguageModel, teacher: LanguageModel, tokenizer: Tokenizer, dataset: PromptDataset,
                config: DistillationConfig, toolbox: Toolbox? = nil, communicator: any Communicator = SingleProcess()) throws {
        try config.checkRanges()
        if toolbox?.environment != nil {
            throw TrainingError.invalidSetting("distillation takes tools but no environment (TRL's DistillationTrainer has "
                + "none, and distillation no rewards for one's); remove environment_command")
        }
        let agents = try toolbox.map {
            try AgentRollouts(toolbox: $0, tokenizer: tokenizer, maxCompletionLength: config.maxCompletionLength,
                              maxToolCallingIterations: config.agent.maxToolCallingIterations,
                              maxModelLength: model.config.maxPositionEmbeddings,
                              chatTemplateVariables: config.chatTemplateKwargs?.jsonObject ?? JSONObject(), environmentReward: nil)
        }
        guard teacher.config.vocabSize == model.config.vocabSize else {
            throw TrainingError.invalidSetting("the student has vocab_size \(model.config.vocabSize) but the teacher "
                + "(teacher_model_name_or_path) has \(teacher.config.vocabSize); distillation compares the teacher's full "
                + "next-token distribution, so use a teacher with the student's vocabulary")
        }
        try dataset.requirePromptsFit(model: model, maxSeqLength: config.training.maxSeqLength,
                                      completionTokens: config.maxCompletionLength, completionField: "max_completion_length")
        self.model = model
        self.teacher = teacher
        self.config = config
        self.tokenizer = tokenizer
        loss = DistillationLoss(config: config)
        self.communicator = communicator
        rounds = try DistillationRounds(
            model: model, dataset: dataset, sampling: try Self.sampling(config, model: model, tokenizer: tokenizer),
            batchSize: config.training.perDeviceTrainBatchSize, accumulation: config.training.gradientAccumulationSteps,
            shuffles: config.shuffleDataset, seed: config.training.seed, neftuneNoiseAlpha: config.neftuneNoiseAlpha,
            agents: agents, communicator: communicator)
    }

    /// The student's sampling: TRL's generation config of `temperature`, `top_p`, `top_k`, `min_p`,
    /// `repetition_penalty` and `max_completion_length`, updated by `generation_kwargs`.
    static func sampling(_ config: DistillationConfig, model: LanguageModel, tokenizer: Tokenizer) throws -> SamplingOptions {
        var sampling = SamplingOptions(model.generationConfig)
        sampling.maxNewTokens = config.maxCompletionLength
        sampling.greedy = false
        sampling.temperature = Float(config.temperature)
        sampling.topK = config.topK
        sampling.topP = Float(config.topP)
        sampling.minP = Float(config.minP ?? 0)
        sampling.repetitionPenalty = Float(config.repetitionPenalty)
        // generation_kwargs are read as GRPO reads them.
        var keywords = GenerationArguments()
        keywords.maxCompletionLength = config.maxCompletionLength
        keywords.generationKwargs = config.generationKwargs
        do {
            try keywords.applyGenerationKeywordArguments(to: &sampling, vocabularySize: model.config.vocabSize)
        } catch {
            throw TrainingError.invalidSetting(error.description)
        }
        if (sampling.eosTokenIds ?? model.generationConfig.eosTokenIds).isEmpty,
           let eos = tokenizer.config.eosToken.flatMap({ tokenizer.id(of: $0) }) {
            sampling.eosTokenIds = [eos]
        }
        return sampling
    }

    public var microBatchesPerEpoch: Int { rounds.microBatchesPerEpoch }

    /// Each micro-batch's loss is divided by the completion tokens of the whole step (TRL's `num_items_in_batch`).
    public var lossScaling: LossScaling { .wholeStep }

    /// The student's completions of the latest generation batch, in the order they were trained (TRL's
    /// `log_completions` keeps the latest generation batch's prompts and completions); nil unless
    /// `log_completions` is on. They carry no rewards and no advantage: distillation has none.
    public var completionLog: CompletionLog? {
        guard config.logCompletions, let round = rounds.latestRound else { return nil }
        let completions = round.rows.map { row in
            LoggedCompletion(prompt: row.prompt, completion: tokenizer.decode(row.completionIds, skipSpecialTokens: true),
                             length: row.lossTokens, clipped: row.isTruncated)
        }
        return CompletionLog(completions: completions, printLimit: config.numCompletionsToPrint)
    }

    public func microBatches(for position: StepPosition) throws -> [MicroBatch] {
        try position.microBatches.map { index in
            let batch = try rounds.microBatch(epoch: position.epoch, index: index)
            return MicroBatch(rows: batch.rows, round: batch.round, noise: batch.noise)
        }
    }

    public func loss(of batch: MicroBatch) throws -> MicroBatchLoss {
        // The noise is the student's: the teacher is another model, in TRL's eval mode, and never noised.
        let result = model.withNEFTuneNoise(batch.noise) {
            loss.compute(student: model, teacher: teacher, promptIds: batch.rows.map(\.promptIds),
                         completionIds: batch.rows.map(\.completionIds), lossTokens: batch.rows.map(\.modelTokens),
                         batchTokens: batch.round.tokens)
        }
        let scaled = communicator.size == 1 ? result.loss : result.loss * Float(communicator.size)
        let tokens = batch.rows.reduce(0) { $0 + $1.promptIds.count + $1.completionIds.count }
        return MicroBatchLoss(loss: scaled, metrics: batch.round.metrics.merging(result.metrics) { $1 }, tokens: tokens)
    }
}
