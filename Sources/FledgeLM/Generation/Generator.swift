import FledgeNN
import FledgeTensor

/// Why a sequence stopped.
public enum FinishReason: String, Sendable {
    case eos, stop, length
}

/// One generated sequence: the new token ids (an EOS that ended it included) and the
/// log-probability of each (see `Sampler.next`).
public struct GeneratedSequence: Sendable {
    public var ids: [Int]
    public var logProbs: [Float]
    public var finishReason: FinishReason
}

/// How `generate` runs its rows.
enum GenerationSchedule {
    /// Continuous batching of at most `concurrentRows` rows, each distinct prompt prefilled once.
    case continuous(concurrentRows: Int)
    /// Every row in one left-padded batch until all have stopped.
    case lockstep
}

extension LanguageModel {
    /// Generates continuations of `prompts` with a KV cache. Position ids come from each row's
    /// own tokens, so each row computes what it would alone (up to float rounding of the batched
    /// products). `shouldStop(row, newIds)`, when given, ends a row early (stop strings);
    /// `onToken(row, id)` sees every token as it is chosen; `onFinish(row, sequence)` sees each row as soon as it
    /// stops, while the other rows go on decoding. `seedIndices` gives the index each
    /// row's generator is seeded with (default: the row's position), so that rows split over
    /// several calls or processes sample what one batch would; each row draws only from its own
    /// generator, so the schedule never changes what a row samples.
    ///
    /// Rows are decoded by continuous batching (``ContinuousBatch``): each distinct prompt is
    /// prefilled once and its rows share its keys and values; at most `concurrentRows` rows
    /// (default: all) decode at once, a row leaves the batch as soon as it stops and the next
    /// waiting row (in row order) takes its place.
    ///
    /// With NEFTune noise on the model that noises passes without gradients (``PretrainedModel/withNEFTuneNoise(_:_:)``;
    /// TRL samples in training mode, where transformers' hook noises every forward), every pass is noised as
    /// transformers' `generate` noises it: the prefill of all rows, left-padded to the longest prompt
    /// (`L` = that length), then each decoding step (`L` = 1). Each row's noise is keyed by its seed index, and
    /// its prompt is prefilled on its own row (rows of one prompt have different noise, so they share nothing).
    ///
    /// A model whose rotary table depends on the longest row of a pass — LongRoPE once a row can
    /// pass original_max_position_embeddings, dynamic NTK once it can pass max_position_embeddings
    /// — instead decodes every row in lockstep as one left-padded batch, as transformers does:
    /// with LongRoPE the step whose sequence first passes original_max_position_embeddings drops
    /// the cache (filled with short-factor keys) and runs the whole sequence again with the long
    /// factors (transformers' Phi-3 `prepare_inputs_for_generation`).
    public func generate(
        _ prompts: [[Int]], options: SamplingOptions, seedIndices: [Int]? = nil, concurrentRows: Int? = nil,
        shouldStop: ((Int, [Int]) -> Bool)? = nil, onToken: ((Int, Int) -> Void)? = nil,
        onFinish: ((Int, GeneratedSequence) -> Void)? = nil
    ) -> [GeneratedSequence] {
        let longest = (prompts.map(\.count).max() ?? 0) + options.maxNewTokens
        let schedule: GenerationSchedule = rotaryDependsOnBatch(longestSequence: longest)
            ? .lockstep : .continuous(concurrentRows: concurrentRows ?? prompts.count)
        return generate(prompts, options: options, seedIndices: seedIndices, schedule: schedule, shouldStop: shouldStop,
                        onToken: onToken, onFinish: onFinish)
    }

    /// `generate` with the schedule given (tests compare the two).
    func generate(
        _ prompts: [[Int]], options: SamplingOptions, seedIndices: [Int]?, schedule: GenerationSchedule,
        shouldStop: ((Int, [Int]) -> Bool)? = nil, onToken: ((Int, Int) -> Void)? = nil,
        onFinish: ((Int, GeneratedSequence) -> Void)? = nil
    ) -> [GeneratedSequence] {
        precondition(!prompts.isEmpty && prompts.allSatisfy { !$0.isEmpty }, "generate needs non-empty prompts")
        precondition(seedIndices.map { $0.count == prompts.count } ?? true,
                     "generate got \(seedIndices?.count ?? 0) seed indices for \(prompts.count) prompts")
        guard options.maxNewTokens > 0 else {
            return prompts.map { _ in GeneratedSequence(ids: [], logProbs: [], finishReason: .length) }
        }
        let stopping = RowStopping(eos: Set(options.ignoreEOS ? [] : options.eosTokenIds ?? generationConfig.eosTokenIds),
                                   maxNewTokens: options.maxNewTokens, shouldStop: shouldStop, onToken: onToken,
                                   onFinish: onFinish)
        var rows = prompts.indices.map { row in
            GenerationRow(index: row, prompt: prompts[row], sampler: Sampler(options: options, row: seedIndices?[row] ?? row))
        }
        let noiseKeys = prompts.indices.map { Sampler.seed(options, row: seedIndices?[$0] ?? $0) }
        func decode() -> [GeneratedSequence] {
            switch schedule {
            case .lockstep:
                decodeInLockstep(prompts, rows: &rows, noiseKeys: noiseKeys, stopping: stopping)
            case .continuous(let concurrentRows):
                precondition(concurrentRows > 0, "generate needs at least one concurrent row, got \(concurrentRows)")
                ContinuousBatch(model: self, prompts: prompts, concurrentRows: concurrentRows, noiseKeys: noiseKeys)
                    .decode(&rows, stopping: stopping)
            }
            return rows.map(\.sequence)
        }
        return Tensor.withoutGrad { options.quantizedActivations ? Tensor.withQuantizedActivations(decode) : decode() }
    }

    /// Whether a pass's rotary table depends on the longest row in it, for sequences up to
    /// `longestSequence` tokens.
    private func rotaryDependsOnBatch(longestSequence: Int) -> Bool {
        switch config.rope.kind {
        case .longrope: return longestSequence > config.rope.originalMaxPositions
        case .dynamic: return longestSequence > config.maxPositionEmbeddings
        default: return false
        }
    }

    /// Every row decoded together as one left-padded batch until all have stopped (finished rows
    /// keep their place, their tokens unused). NEFTune noise (``NEFTuneNoise``, when it noises passes
    /// without gradients) is keyed by `noiseKeys`, one per row.
    private func decodeInLockstep(_ prompts: [[Int]], rows: inout [GenerationRow], noiseKeys: [UInt64], stopping: RowStopping) {
        let batch = LeftPaddedBatch(prompts, padId: generationConfig.padTokenId ?? 0)
        let count = batch.rows, hidden = config.hiddenSize
        let cache = makeCache(batch: count, capacity: batch.length + stopping.maxNewTokens)
        let rotary = rotaryState()
        let promptMask = batch.mask.map(Float.init)
        let padded = batch.hasPadding
        var positions = (0..<count).map { prompts[$0].count - 1 }
        var fed: [[Int]] = []

        var input = ForwardInput(ids: batch.ids, batch: count, length: batch.length, positions: batch.positions,
                                 keyPadding: padded ? promptMask : nil)
        for step in 0..<stopping.maxNewTokens {
            decoder.neftuneNoise?.rowKeys = noiseKeys
            let states = decoder.forward(input, cache: cache, rotary: rotary)
            let last = states.slice(axis: 1, input.length - 1..<input.length).reshaped([count, hidden])
            let logits = head.logits(decoder.norm(last))
            let vocab = logits.shape[1]
            var next = [Int](repeating: 0, count: count)
            logits.withUnsafeElements { values in
                for r in 0..<count where !rows[r].isFinished {
                    next[r] = rows[r].extend(from: UnsafeBufferPointer(rebasing: values[r * vocab..<(r + 1) * vocab]),
                                             stopping: stopping)
                }
            }
            if rows.allSatisfy(\.isFinished) { break }
            for r in 0..<count { positions[r] += 1 }
            var keyPadding: [Float]? = nil
            if padded {
                let generated = [Float](repeating: 1, count: step + 1)
                keyPadding = (0..<count).flatMap { promptMask[$0 * batch.length..<($0 + 1) * batch.length] + generated }
            }
            fed.append(next)
            input = ForwardInput(ids: next, batch: count, length: 1, positions: positions, keyPadding: keyPadding)
            if config.rope.kind == .longrope && cache.length == config.rope.originalMaxPositions {
                // The cached keys were rotated with the short factors; this pass needs the long ones.
                cache.length = 0
                input = Self.wholeSequence(batch, fed: fed, keyPadding: keyPadding)
            }
        }
    }

    /// The prompts and the tokens fed after them (`fed[step][row]`) as one pass from position 0.
    private static func wholeSequence(_ batch: LeftPaddedBatch, fed: [[Int]], keyPadding: [Float]?) -> ForwardInput {
        var ids: [Int] = [], positions: [Int] = []
        for r in 0..<batch.rows {
            let row = r * batch.length..<(r + 1) * batch.length
            ids += batch.ids[row] + fed.map { $0[r] }
            let last = batch.positions[row.upperBound - 1]
            positions += batch.positions[row] + (1...fed.count).map { last + $0 }
        }
        return ForwardInput(ids: ids, batch: batch.rows, length: batch.length + fed.count, positions: positions,
                            keyPadding: keyPadding)
    }
}
