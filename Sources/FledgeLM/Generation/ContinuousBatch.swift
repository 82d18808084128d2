import FledgeTensor

/// Continuous batching with shared prompts: the schedule of ``LanguageModel/generate(_:options:seedIndices:concurrentRows:shouldStop:onToken:onFinish:)``.
///
/// Each distinct prompt is prefilled once, as one left-padded batch of the distinct prompts, into
/// a prompt cache; its last position's logits give the first token of every row that continues
/// it. Up to `concurrentRows` rows then decode together, one token per pass, each in a row of a
/// decoding cache: a row admitted copies its prompt's keys and values there (right-aligned to the
/// cache's filled length, the positions before it masked), a row that stops (EOS, stop,
/// `max_new_tokens`) leaves at once, the last decoding row moving into its place, and the next
/// waiting row (in row order) is admitted. Each row has its own position ids and key mask, and
/// samples from its own generator, so which rows share a pass never changes what a row draws.
///
/// When every row is admitted at once (`concurrentRows` ≥ rows) the rows' keys sit where one
/// left-padded batch puts them. When rows wait, the decoding cache is twice the longest sequence
/// and, when full, drops the positions no decoding row reads.
struct ContinuousBatch {
    let model: LanguageModel
    let prompts: [[Int]]
    let concurrentRows: Int
    /// The key of each row's NEFTune noise (``NEFTuneNoise/rowKeys``).
    let noiseKeys: [UInt64]

    /// Decodes `rows` (one per prompt, in prompt order) until every one has stopped.
    func decode(_ rows: inout [GenerationRow], stopping: RowStopping) {
        // The distinct prompts, in order of first appearance, and which one each row continues; under
        // NEFTune noise every row is its own prompt, since each row's prompt has its own noise.
        let noised = model.decoder.neftuneNoise?.isActive ?? false
        var distinct: [[Int]] = [], promptIndex: [[Int]: Int] = [:]
        let promptOfRow = prompts.map { prompt in
            if !noised, let index = promptIndex[prompt] { return index }
            promptIndex[prompt] = distinct.count
            distinct.append(prompt)
            return distinct.count - 1
        }
        model.decoder.neftuneNoise?.rowKeys = noiseKeys
        let batch = LeftPaddedBatch(distinct, padId: model.generationConfig.padTokenId ?? 0)
        let rotary = model.rotaryState()
        let promptCache = model.makeCache(batch: batch.rows, capacity: batch.length)
        let promptLogits = lastLogits(ForwardInput(
            ids: batch.ids, batch: batch.rows, length: batch.length, positions: batch.positions,
            keyPadding: batch.hasPadding ? batch.mask.map(Float.init) : nil), cache: promptCache, rotary: rotary)

        let slots = min(concurrentRows, rows.count)
        let longest = batch.length + stopping.maxNewTokens
        let cache = model.makeCache(batch: slots, capacity: slots < rows.count ? 2 * longest : longest, keepingWindows: true)
        cache.startEmpty(at: batch.length)
        var decoding: [Int] = []  // the row in each slot of `cache`
        var waiting = rows.indices.makeIterator()
        let vocab = promptLogits.shape[1]

        promptLogits.withUnsafeElements { promptValues in
            while true {
                // Admit waiting rows into free slots; a row whose first token ends it never decodes.
                while decoding.count < slots, let row = waiting.next() {
                    let prompt = promptOfRow[row]
                    rows[row].extend(from: UnsafeBufferPointer(rebasing: promptValues[prompt * vocab..<(prompt + 1) * vocab]),
                                     stopping: stopping)
                    if rows[row].isFinished { continue }
                    cache.copyRow(prompt, of: promptCache, positions: batch.length - prompts[row].count..<batch.length,
                                  into: decoding.count)
                    decoding.append(row)
                }
                if decoding.isEmpty { return }
                if cache.length + 1 > cache.capacity {
                    // Drop the positions before every decoding row's tokens (a row holds all its
                    // tokens but the last sampled one), keeping room for the longest prompt.
                    let used = decoding.map { rows[$0].history.count - 1 }.max() ?? 0
                    cache.dropLeading(cache.length - max(used, batch.length))
                }
                model.decoder.neftuneNoise?.rowKeys = decoding.map { noiseKeys[$0] }
                let logits = lastLogits(nextInput(decoding.map { rows[$0].history }, keys: cache.length + 1), cache: cache,
                                        rotary: rotary)
                logits.withUnsafeElements { values in
                    for (slot, row) in decoding.enumerated() {
                        rows[row].extend(from: UnsafeBufferPointer(rebasing: values[slot * vocab..<(slot + 1) * vocab]),
                                         stopping: stopping)
                    }
                }
                for slot in decoding.indices.reversed() where rows[decoding[slot]].isFinished {
                    if slot != decoding.count - 1 {
                        cache.moveRow(decoding.count - 1, to: slot)
                        decoding[slot] = decoding[decoding.count - 1]
                    }
                    decoding.removeLast()
                }
            }
        }
    }

    /// The pass feeding each decoding row its last token: position ids from the rows' own
    /// lengths, and a key mask hiding the `keys` positions before each row's tokens (none when
    /// every row fills them all).
    private func nextInput(_ histories: [[Int]], keys: Int) -> ForwardInput {
        let padded = histories.contains { $0.count < keys }
        let keyPadding = padded
            ? histories.flatMap { [Float](repeating: 0, count: keys - $0.count) + [Float](repeating: 1, count: $0.count) } : nil
        return ForwardInput(ids: histories.map { $0.last! }, batch: histories.count, length: 1,
                            positions: histories.map { $0.count - 1 }, keyPadding: keyPadding)
    }

    /// The output head's logits `[batch, vocab]` at the last position of each row of `input`.
    private func lastLogits(_ input: ForwardInput, cache: KVCache, rotary: RotaryState) -> Tensor {
        let states = model.decoder.forward(input, cache: cache, rotary: rotary)
        let last = states.slice(axis: 1, input.length - 1..<input.length).reshaped([input.batch, model.config.hiddenSize])
        return model.head.logits(model.decoder.norm(last))
    }
}
