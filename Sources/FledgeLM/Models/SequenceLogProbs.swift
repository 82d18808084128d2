import FledgeTensor

/// Per-token log-probabilities of scored spans of sequences, with autograd, flattened in sequence
/// order: the tokens of sequence 0's span, then sequence 1's, and so on.
public struct SequenceLogProbs {
    /// `log p(token | tokens before it)` of every scored token, `[total]`; differentiable with
    /// respect to every trainable weight of the model.
    public let logProbs: Tensor
    /// The entropy of each scored position's distribution, `[total]`, when requested.
    public let entropy: Tensor?
    /// How many tokens of each sequence were scored.
    public let counts: [Int]
    /// The logit statistics asked for, per scored position, without autograd.
    public let statistics: ScoredLogitStatistics
    /// Each scored position's mean `−log p` over the vocabulary (``OutputHead/meanNegativeLogProbs(_:temperature:)``),
    /// `[total]` with autograd, when requested.
    public var meanNegativeLogProbs: Tensor? = nil

    /// The rows the flat tensors fall into, and their right-padded grid (``TokenRows``).
    public var layout: TokenRows { TokenRows(counts: counts) }

    /// Where each sequence's tokens start in the flat tensors.
    public var offsets: [Int] {
        var result: [Int] = [], total = 0
        for count in counts {
            result.append(total)
            total += count
        }
        return result
    }
}

extension LanguageModel {
    /// Log-probabilities (with autograd) of the tokens `sequences[i][scoredFrom[i]...]`, each given
    /// every token before it, after dividing the logits by `temperature` as TRL does.
    ///
    /// The sequences are run as one left-padded batch with position ids counted over each row's
    /// real tokens, so a row's result does not depend on the others (TRL's prompt-left-padded,
    /// completion-right-padded layout gives the same numbers: padding after a token never reaches
    /// it under the causal mask) — except under LongRoPE, whose short or long factors the batch's
    /// largest position picks, as in transformers. Logits are never materialised: the final hidden states of the
    /// scored positions go through the chunked selective log-softmax. `scoredFrom[i]` must be at
    /// least 1 (the first token has no prediction). `statistics` adds summaries of the scored
    /// positions' logits (mean logit, log Σ p²), without autograd; `withMeanNegativeLogProbs` adds
    /// each position's mean `−log p` over the vocabulary, with autograd (for label smoothing).
    ///
    /// With `sharingPrefixes`, sequences whose unscored prefixes `sequences[i][..<scoredFrom[i]]`
    /// are equal (a GRPO group's prompt, a DPO pair's) run that prefix once: the suffixes attend to
    /// one copy of its keys and values and its gradient is the sum over them
    /// (``SharedPrefixBatch``). The results equal the unshared ones within float rounding. While
    /// LoRA dropout is active (training with `lora_dropout` > 0 and the adapters on) nothing is shared:
    /// each copy of a prefix draws its own dropout masks in the unshared pass, which one shared copy
    /// cannot (with the adapters off, the reference's passes, there is no dropout to draw); nor while
    /// NEFTune noise keyed by row is on (``NEFTuneNoise/rowKeys``): each copy of a prefix has its own noise.
    ///
    /// With `paddingFree` (and not `sharingPrefixes`), the sequences run end to end without padding
    /// (``PaddingFreeBatch``: positions restart at each sequence, attention stays within it), as
    /// transformers runs TRL's packed documents; the results again equal the padded batch's within
    /// float rounding, and no token is spent on padding outside attention (not under keyed NEFTune noise,
    /// which needs padded rows).
    public func sequenceLogProbs(
        _ sequences: [[Int]], scoredFrom: [Int], temperature: Float = 1, withEntropy: Bool = false,
        statistics: LogitStatistics = [], withMeanNegativeLogProbs: Bool = false, sharingPrefixes: Bool = false,
        paddingFree: Bool = false
    ) -> SequenceLogProbs {
        precondition(sequences.count == scoredFrom.count, "sequenceLogProbs: \(scoredFrom.count) starts for \(sequences.count) sequences")
        for (r, sequence) in sequences.enumerated() {
            precondition(scoredFrom[r] >= 1 && scoredFrom[r] <= sequence.count,
                         "sequenceLogProbs: sequence \(r) of \(sequence.count) tokens cannot be scored from \(scoredFrom[r])")
        }
        let counts = sequences.indices.map { sequences[$0].count - scoredFrom[$0] }
        let targets = sequences.indices.flatMap { sequences[$0][scoredFrom[$0]...] }
        let hidden: Tensor, rows: [Int]
        let dropsOut = GradMode.isTraining && (loraOptions?.dropout ?? 0) > 0 && loraModules.contains { $0.1.isEnabled }
        // Keyed NEFTune noise gives each row its own noise, which needs each row's own tokens.
        let noisesRows = decoder.neftuneNoise?.isKeyedAndActive ?? false
        if sharingPrefixes && !dropsOut && !noisesRows && !sequences.isEmpty {
            let packed = SharedPrefixBatch(sequences, splitAt: scoredFrom)
            hidden = flatHiddenStates(ids: packed.ids, positions: packed.positions, regrouping: packed.attention)
            // A sequence's first scored token is predicted at its prefix's last token, the rest in its suffix.
            rows = sequences.indices.flatMap { r in
                counts[r] == 0 ? [] : [packed.prefixEnd[r]] + (0..<counts[r] - 1).map { packed.suffixStart[r] + $0 }
            }
        } else if paddingFree && !noisesRows && !sequences.isEmpty {
            let flat = PaddingFreeBatch(sequences)
            hidden = flatHiddenStates(ids: flat.ids, positions: flat.positions, regrouping: flat.attention)
            rows = sequences.indices.flatMap { r in (scoredFrom[r]..<sequences[r].count).map { flat.starts[r] + $0 - 1 } }
        } else {
            let batch = LeftPaddedBatch(sequences, padId: config.padTokenId ?? 0)
            hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
            rows = sequences.indices.flatMap { r in
                let first = r * batch.length + batch.length - sequences[r].count
                return (scoredFrom[r]..<sequences[r].count).map { first + $0 - 1 }
            }
        }
        let selected = hidden.indexSelect(rows, indexShape: [rows.count])
        let result = head.logProbs(selected, targets: targets, temperature: temperature, withEntropy: withEntropy)
        return SequenceLogProbs(logProbs: result.logProbs, entropy: result.entropy, counts: counts,
                                statistics: head.statistics(statistics, hidden: selected, temperature: temperature),
                                meanNegativeLogProbs: withMeanNegativeLogProbs
                                    ? head.meanNegativeLogProbs(selected, temperature: temperature) : nil)
    }

    /// Final hidden states `[tokens, hidden]` (after the last norm) of flat tokens whose attention `regrouping` arranges.
    func flatHiddenStates(ids: [Int], positions: [Int], regrouping: any FlatTokenAttention) -> Tensor {
        let input = ForwardInput(ids: ids, batch: 1, length: ids.count, positions: positions, keyPadding: nil,
                                 regrouping: regrouping)
        return decoder.norm(decoder.forward(input, cache: nil, rotary: rotaryState())).reshaped([ids.count, config.hiddenSize])
    }
}
