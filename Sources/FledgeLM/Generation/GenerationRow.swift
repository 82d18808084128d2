/// One sequence being generated: its sampler, its tokens so far (prompt included) and what it
/// has produced. Both generation schedules (``LanguageModel/generate(_:options:seedIndices:concurrentRows:shouldStop:onToken:onFinish:)``)
/// extend their rows through ``extend(from:stopping:)``, so a row samples and stops the same way
/// whichever schedule runs it.
struct GenerationRow {
    /// The row's index in the caller's prompts.
    let index: Int
    var sampler: Sampler
    /// The prompt and the tokens sampled so far.
    private(set) var history: [Int]
    private(set) var sequence = GeneratedSequence(ids: [], logProbs: [], finishReason: .length)
    private(set) var isFinished = false

    init(index: Int, prompt: [Int], sampler: Sampler) {
        self.index = index
        history = prompt
        self.sampler = sampler
    }

    /// Samples the next token from the logits of the row's last position, records it and its
    /// log-probability, and finishes the row at an EOS id, a stop (`stopping.shouldStop`) or
    /// `stopping.maxNewTokens` tokens. Returns the token.
    @discardableResult
    mutating func extend(from logits: UnsafeBufferPointer<Float>, stopping: RowStopping) -> Int {
        precondition(!isFinished, "generation row \(index) extended after it finished")
        let (token, logProb) = sampler.next(logits, history: history)
        sequence.ids.append(token)
        sequence.logProbs.append(logProb)
        history.append(token)
        stopping.onToken?(index, token)
        if stopping.eos.contains(token) {
            isFinished = true
            sequence.finishReason = .eos
        } else if let shouldStop = stopping.shouldStop, shouldStop(index, sequence.ids) {
            isFinished = true
            sequence.finishReason = .stop
        } else if sequence.ids.count == stopping.maxNewTokens {
            isFinished = true
        }
        if isFinished { stopping.onFinish?(index, sequence) }
        return token
    }
}

/// When a row stops, and who sees its tokens: the settings every row of one `generate` call shares.
struct RowStopping {
    /// Ids that end a row (kept in its output).
    let eos: Set<Int>
    let maxNewTokens: Int
    /// `(row, newIds)`: whether the row stops here (stop strings).
    let shouldStop: ((Int, [Int]) -> Bool)?
    /// `(row, id)`: called with every token as it is chosen.
    let onToken: ((Int, Int) -> Void)?
    /// `(row, sequence)`: called once with each row as soon as it stops.
    let onFinish: ((Int, GeneratedSequence) -> Void)?
}
