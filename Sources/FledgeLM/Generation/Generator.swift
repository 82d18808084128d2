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

extension LanguageModel {
    /// Generates continuations of `prompts` as one left-padded batch with a KV cache. Position
    /// ids come from the attention mask, so each row computes what it would alone (up to
    /// float rounding of the batched products). `shouldStop(row, newIds)`, when given, ends a
    /// row early (stop strings); `onToken(row, id)` sees every token as it is chosen.
    /// `seedIndices` gives the index each row's generator is seeded with (default: the row's
    /// position), so that rows split over several calls or processes sample what one batch would.
    /// With LongRoPE, the step whose sequence first passes original_max_position_embeddings
    /// drops the cache (filled with short-factor keys) and runs the whole sequence again with the
    /// long factors, as transformers' Phi-3 `prepare_inputs_for_generation` does.
    public func generate(
        _ prompts: [[Int]], options: SamplingOptions, seedIndices: [Int]? = nil,
        shouldStop: ((Int, [Int]) -> Bool)? = nil, onToken: ((Int, Int) -> Void)? = nil
    ) -> [GeneratedSequence] {
        precondition(!prompts.isEmpty && prompts.allSatisfy { !$0.isEmpty }, "generate needs non-empty prompts")
        precondition(seedIndices.map { $0.count == prompts.count } ?? true,
                     "generate got \(seedIndices?.count ?? 0) seed indices for \(prompts.count) prompts")
        let eos = Set(options.ignoreEOS ? [] : options.eosTokenIds ?? generationConfig.eosTokenIds)
        let batch = LeftPaddedBatch(prompts, padId: generationConfig.padTokenId ?? 0)
        let rows = batch.rows, hidden = config.hiddenSize
        var results = prompts.map { _ in GeneratedSequence(ids: [], logProbs: [], finishReason: .length) }
        guard options.maxNewTokens > 0 else { return results }

        return Tensor.withoutGrad {
            let cache = makeCache(batch: rows, capacity: batch.length + options.maxNewTokens)
            let rotary = rotaryState()
            var samplers = (seedIndices ?? Array(0..<rows)).map { Sampler(options: options, row: $0) }
            var histories = prompts
            var done = [Bool](repeating: false, count: rows)
            let promptMask = batch.mask.map(Float.init)
            let padded = batch.hasPadding
            var positions = (0..<rows).map { prompts[$0].count - 1 }
            var fed: [[Int]] = []

            var input = ForwardInput(ids: batch.ids, batch: rows, length: batch.length, positions: batch.positions,
                                     keyPadding: padded ? promptMask : nil)
            for step in 0..<options.maxNewTokens {
                let states = decoder.forward(input, cache: cache, rotary: rotary)
                let last = states.slice(axis: 1, input.length - 1..<input.length).reshaped([rows, hidden])
                let logits = head.logits(decoder.norm(last))
                let vocab = logits.shape[1]
                var next = [Int](repeating: 0, count: rows)
                logits.withUnsafeElements { values in
                    for r in 0..<rows where !done[r] {
                        let row = UnsafeBufferPointer(rebasing: values[r * vocab..<(r + 1) * vocab])
                        let (token, logProb) = samplers[r].next(row, history: histories[r])
                        next[r] = token
                        results[r].ids.append(token)
                        results[r].logProbs.append(logProb)
                        histories[r].append(token)
                        onToken?(r, token)
                        if eos.contains(token) {
                            done[r] = true
                            results[r].finishReason = .eos
                        } else if let shouldStop, shouldStop(r, results[r].ids) {
                            done[r] = true
                            results[r].finishReason = .stop
                        }
                    }
                }
                if done.allSatisfy({ $0 }) || step == options.maxNewTokens - 1 { break }
                for r in 0..<rows { positions[r] += 1 }
                var keyPadding: [Float]? = nil
                if padded {
                    let generated = [Float](repeating: 1, count: step + 1)
                    keyPadding = (0..<rows).flatMap { promptMask[$0 * batch.length..<($0 + 1) * batch.length] + generated }
                }
                fed.append(next)
                input = ForwardInput(ids: next, batch: rows, length: 1, positions: positions, keyPadding: keyPadding)
                if config.rope.kind == .longrope && cache.length == config.rope.originalMaxPositions {
                    // The cached keys were rotated with the short factors; this pass needs the long ones.
                    cache.length = 0
                    input = Self.wholeSequence(batch, fed: fed, keyPadding: keyPadding)
                }
            }
            return results
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
