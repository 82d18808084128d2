import FledgeLM
import FledgeTensor

/// The on-policy batches of TRL's `DistillationTrainer`: each optimizer step takes the next
/// `per_device_train_batch_size · gradient_accumulation_steps` prompts of the epoch's order (TRL's
/// `RepeatSampler` with one completion per prompt), the student samples one completion of each
/// with its weights at the start of the step, and the generation batch is shuffled and split into
/// `gradient_accumulation_steps` micro-batches (TRL's `_prepare_inputs`).
///
/// Over several processes (`communicator`), a generation batch is the global one
/// (`per_device_train_batch_size · world_size · gradient_accumulation_steps` prompts); its shuffled rows
/// are split into contiguous shares, process `p` sampling exactly the `p`-th share (each row with its own
/// generator, seeded by its place in the batch), and the completion tokens and length metrics are
/// summed and gathered over the processes. So `N` processes see the rows one process with `N` times
/// the gradient accumulation sees (TRL keeps each process's prompts on that process instead, which
/// changes only which rows share a micro-batch).
///
/// With `agents` (`tools`) each row is a multi-turn episode (``AgentRollouts``), its prompt rendered with the tools:
/// the completion is the whole episode, tool results included, and `modelTokens` marks the student's own tokens, the
/// only ones in the loss, the token count and the length metrics (TRL's `tool_mask`); the batch's tool calls give
/// TRL's `tools/call_frequency` and `tools/failure_frequency`.
///
/// A generation batch is a pure function of the seed, the epoch and the step within it (prompt
/// order, sampling seed, row shuffle) and of the weights at the step's start, so no random state
/// needs saving and a resumed run samples exactly what the uninterrupted one did.
final class DistillationRounds {
    /// One sampled completion.
    struct Row {
        /// The dataset row's prompt, as written (text or chat messages).
        let prompt: JSONValue
        let promptIds: [Int]
        /// The sampled tokens, the EOS that ended the completion included (an episode's tool results too).
        let completionIds: [Int]
        /// An episode's mask of the student's own tokens in `completionIds` (tool results false); nil for a
        /// single-turn completion, all of whose tokens are the student's.
        let modelTokens: [Bool]?
        /// Whether the completion ran to `max_completion_length` without an EOS.
        let isTruncated: Bool
        /// The row's place in its generation batch (its sampling seed index), which keys its NEFTune noise.
        let roundRow: Int
        /// Tool calls of the episode, and those that failed.
        var toolCalls = 0, toolFailures = 0

        /// The completion tokens in the loss: the student's own.
        var lossTokens: Int { modelTokens.map { $0.filter { $0 }.count } ?? completionIds.count }
    }

    /// A generation batch: its key (epoch, index), this process's share of its shuffled rows, its
    /// completion tokens in the loss over every process (TRL's `num_items_in_batch`: tool results left out) and
    /// TRL's `completions/*` (and `tools/*`) metrics.
    struct Round {
        let key: [Int]
        let rows: [Row]
        let tokens: Int
        let metrics: [String: Double]
        /// The length TRL pads the batch's loss passes over this process's rows to (the longest prompt plus
        /// the longest completion): NEFTune's `L`.
        let paddedLength: Int
    }

    let dataset: PromptDataset
    private let model: LanguageModel
    private let sampling: SamplingOptions
    private let batchSize: Int
    private let accumulation: Int
    private let shuffles: Bool
    private let seed: UInt64
    private let communicator: any Communicator
    /// NEFTune's α (`neftune_noise_alpha`), or nil.
    private let neftuneNoiseAlpha: Double?
    /// The episodes' runner when the student calls tools, or nil.
    let agents: AgentRollouts?
    private var cached: Round?

    /// Batches of `dataset` sampled from `model` with `sampling`, `batchSize` rows per micro-batch,
    /// `accumulation` micro-batches per step on each of the `communicator`'s processes; prompts shuffled
    /// each epoch when `shuffles`; with `neftuneNoiseAlpha`, NEFTune noise on the student's sampling and loss passes;
    /// with `agents`, each row a multi-turn episode.
    init(model: LanguageModel, dataset: PromptDataset, sampling: SamplingOptions, batchSize: Int, accumulation: Int,
         shuffles: Bool, seed: Int, neftuneNoiseAlpha: Double? = nil, agents: AgentRollouts? = nil,
         communicator: any Communicator = SingleProcess()) throws {
        let prompts = batchSize * accumulation * communicator.size
        guard dataset.rows.count >= prompts else {
            throw TrainingError.invalidSetting("\(dataset.source) has \(dataset.rows.count) prompts, fewer than the "
                + "\(prompts) one optimizer step samples (per_device_train_batch_size × gradient_accumulation_steps"
                + (communicator.size > 1 ? " × \(communicator.size) processes" : "") + "); add prompts or lower them")
        }
        self.model = model
        self.dataset = dataset
        self.sampling = sampling
        self.batchSize = batchSize
        self.accumulation = accumulation
        self.shuffles = shuffles
        self.seed = UInt64(bitPattern: Int64(seed))
        self.communicator = communicator
        self.neftuneNoiseAlpha = neftuneNoiseAlpha
        self.agents = agents
    }

    /// Prompts of one generation batch over every process.
    private var promptsPerRound: Int { batchSize * accumulation * communicator.size }

    /// Micro-batches in one pass over the prompts (whole generation batches only, as TRL's sampler drops the rest).
    var microBatchesPerEpoch: Int { dataset.rows.count / promptsPerRound * accumulation }

    /// The rows of micro-batch `index` of `epoch`, its generation batch (sampled on first use; only
    /// the current one is kept) and the NEFTune noise of its loss pass (nil without `neftune_noise_alpha`):
    /// keyed by the rows' places in the batch, with the batch's padded length as `L`, and seeded by the
    /// seed, the epoch and the index, so that a resumed run draws what the uninterrupted one did.
    func microBatch(epoch: Int, index: Int) throws -> (rows: [Row], round: Round, noise: NEFTuneNoise?) {
        let round = try self.round(epoch: epoch, index: index / accumulation)
        let chunk = index % accumulation
        let rows = Array(round.rows[chunk * batchSize..<(chunk + 1) * batchSize])
        let noise = neftuneNoiseAlpha.map {
            NEFTuneNoise(alpha: Float($0), seed: mixedSeed(seed, UInt64(epoch), UInt64(index), NEFTunePass.loss.rawValue),
                         rowKeys: rows.map { UInt64($0.roundRow) }, length: round.paddedLength)
        }
        return (rows, round, noise)
    }

    /// The latest generation batch sampled, if any.
    var latestRound: Round? { cached }

    private func round(epoch: Int, index: Int) throws -> Round {
        let key = [epoch, index]
        if let cached, cached.key == key { return cached }
        let order = promptOrder(epoch: epoch)
        let prompts = order[index * promptsPerRound..<(index + 1) * promptsPerRound].map { dataset.rows[$0] }
        var options = sampling
        options.seed = mixedSeed(seed, UInt64(epoch), UInt64(index))
        // The batch's rows in shuffled order; this process samples its contiguous share, each row
        // seeded by its place in the batch.
        var generator = SeededGenerator(seed: options.seed ^ 0x5DEE_CE66_D1CE_4E5B)
        let shareSize = batchSize * accumulation
        let share = Array(Array(prompts.indices).shuffled(using: &generator)[communicator.rank * shareSize..<(communicator.rank + 1) * shareSize])
        // The student samples in TRL's training mode, where NEFTune's hook noises every forward.
        let samplingNoise = neftuneNoiseAlpha.map {
            NEFTuneNoise(alpha: Float($0), seed: options.seed ^ NEFTunePass.sampling.rawValue, noisesPassesWithoutGrad: true)
        }
        let rows: [Row] = try model.withNEFTuneNoise(samplingNoise) {
            if let agents {
                let episodes = try agents.generate(share.map { prompts[$0] }, rowNumbers: share, options: options, model: model)
                return zip(share, episodes).map { row, episode in
                    Row(prompt: prompts[row].prompt, promptIds: episode.promptIds, completionIds: episode.completionIds,
                        modelTokens: episode.modelTokens, isTruncated: episode.isTruncated, roundRow: row,
                        toolCalls: episode.toolCalls, toolFailures: episode.toolFailures)
                }
            }
            let generated = model.generate(share.map { prompts[$0].promptIds }, options: options, seedIndices: share)
            return zip(share, generated).map { row, sequence in
                Row(prompt: prompts[row].prompt, promptIds: prompts[row].promptIds, completionIds: sequence.ids, modelTokens: nil,
                    isTruncated: sequence.finishReason != .eos, roundRow: row)
            }
        }
        let local: [Double] = rows.flatMap {
            [Double($0.lossTokens), $0.isTruncated ? 1.0 : 0.0, Double($0.toolCalls), Double($0.toolFailures)]
        }
        let all = communicator.size == 1 ? local
            : Array(try communicator.allGather(local, purpose: "the completion lengths of a distillation batch").joined())
        func column(_ offset: Int) -> [Double] { stride(from: offset, to: all.count, by: 4).map { all[$0] } }
        let lengths = column(0)
        var metrics = GRPORoundSummary.lengthMetrics(lengths: lengths, truncated: column(1).map { $0 == 1 })
        if agents != nil {
            // TRL's tool metrics: calls per prompt of the batch, failures per call.
            let calls = column(2).reduce(0, +), failures = column(3).reduce(0, +)
            metrics["tools/call_frequency"] = calls / Double(max(lengths.count, 1))
            metrics["tools/failure_frequency"] = calls > 0 ? failures / calls : 0
        }
        let paddedLength = NEFTunePass.paddedLength(prompts: rows.map(\.promptIds), completions: rows.map(\.completionIds))
        let round = Round(key: key, rows: rows, tokens: Int(lengths.reduce(0, +)), metrics: metrics, paddedLength: paddedLength)
        cached = round
        return round
    }

    /// The epoch's prompt order: shuffled with the seed and the epoch when `shuffle_dataset`.
    private func promptOrder(epoch: Int) -> [Int] {
        var order = Array(dataset.rows.indices)
        guard shuffles else { return order }
        var generator = SeededGenerator(seed: mixedSeed(seed, UInt64(epoch), 0x0DA7_A0DE))
        order.shuffle(using: &generator)
        return order
    }
}
