import FledgeLM
import FledgeTensor

/// A micro-batch of completions scored for the loss with its zero-signal rows left out of the
/// forward and backward (``ZeroSignalRowSkipping``).
///
/// The loss still sees every row: a skipped row keeps its token count, so it counts in every
/// normaliser, and its per-token log-probabilities are constants (no autograd) equal to the
/// reference's when the loss has a KL term, else the sampling policy's when it has those, else 0.
/// With a zero advantage every policy term of the row is then exactly 0 (the ratio is finite), its
/// KL estimate is exactly 0 (exp(0) − 0 − 1), and its clip flags are 0 — the values a run row with a
/// zero advantage gives them — so the loss and the clip metrics are unchanged. The `entropy`
/// metric averages over the rows that ran.
struct ZeroSignalRows {
    /// Whether each row is left out of the forward and backward.
    let skipped: [Bool]

    /// The rows of `completions` to skip under `mode` when training `model`. `zeroAdvantageIsExact`
    /// says whether a zero-advantage row adds nothing but its (zero) policy term to the loss;
    /// `canSkipZeroAdvantage` whether such a row may be skipped at all (not when the loss needs
    /// every row's entropies: `top_entropy_quantile` < 1 or an entropy bonus). Under `exact`, nothing is skipped while LoRA dropout is on: each row
    /// run draws dropout masks, so skipping one changes the masks of the rows after it.
    init(_ completions: [GRPORollout.Completion], model: LanguageModel, mode: ZeroSignalRowSkipping,
         zeroAdvantageIsExact: Bool, canSkipZeroAdvantage: Bool = true) {
        let drawsDropout = (model.loraOptions?.dropout ?? 0) > 0
        let skipsAny = mode == .always || (mode == .exact && !drawsDropout)
        let skipsZeroAdvantage = canSkipZeroAdvantage && (mode == .always || zeroAdvantageIsExact)
        skipped = completions.map { row in
            skipsAny && (!row.inLoss || (skipsZeroAdvantage && row.advantage == 0))
        }
    }

    /// Whether the batch has rows and every one is skipped: its loss is then a constant, standing for
    /// a zero gradient.
    var skipsEveryRow: Bool { !skipped.isEmpty && !skipped.contains(false) }

    /// The share of rows skipped, logged as `frac_skipped_rows`.
    var skippedFraction: Double {
        Double(skipped.filter { $0 }.count) / Double(Swift.max(skipped.count, 1))
    }

    /// The batch's completion log-probabilities under `model` at `temperature`, flat in row order
    /// (`[total]`, autograd through the rows that ran), the tokens of each row, and the entropies of
    /// the rows that ran. `constants` gives a skipped row's log-probabilities (nil: zeros). With
    /// `sharingPrefixes`, the rows run of one prompt run the prompt once.
    func scored(_ batch: RoundMicroBatch, by model: LanguageModel, temperature: Double, sharingPrefixes: Bool,
                constants: (GRPORollout.Completion) -> [Float]?) -> (logProbs: Tensor, counts: [Int], entropies: Tensor?) {
        let rows = batch.completions
        let run = rows.indices.filter { !skipped[$0] }
        if run.count == rows.count {
            let scored = batch.scored(by: model, temperature: temperature, sharingPrefixes: sharingPrefixes)
            return (scored.logProbs, scored.counts, scored.entropy)
        }
        let counts = rows.map(\.lossTokens)
        let scored = run.isEmpty ? nil : RoundMicroBatch(
            completions: run.map { rows[$0] }, generationBatchTokens: batch.generationBatchTokens,
            roundMetrics: batch.roundMetrics, endsStep: batch.endsStep, noise: batch.noise
        ).scored(by: model, temperature: temperature, sharingPrefixes: sharingPrefixes)
        // Gather the flat result from the run rows' values followed by the skipped rows' constants.
        let runTokens = scored?.counts.reduce(0, +) ?? 0
        var fixed: [Float] = [], source: [Int] = []
        var nextRun = 0
        for (index, row) in rows.enumerated() {
            if skipped[index] {
                let values = counts[index] == 0 ? [] : constants(row) ?? []
                precondition(values.isEmpty || values.count == counts[index],
                             "\(values.count) constant log-probs for a row of \(counts[index]) tokens")
                source += (0..<counts[index]).map { runTokens + fixed.count + $0 }
                fixed += values.isEmpty ? [Float](repeating: 0, count: counts[index]) : values
            } else {
                source += (0..<counts[index]).map { nextRun + $0 }
                nextRun += counts[index]
            }
        }
        let constant = Tensor(shape: [fixed.count], values: fixed)
        let logProbs: Tensor
        if let scored {
            logProbs = fixed.isEmpty ? scored.logProbs
                : Tensor.concat([scored.logProbs, constant], axis: 0).indexSelect(source, indexShape: [source.count])
        } else {
            logProbs = constant
        }
        return (logProbs, counts, scored?.entropy)
    }
}
