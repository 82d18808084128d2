import Foundation
import FledgeTensor

extension SequenceClassifier {
    /// A one-label reward model to train from `directory`: a sequence classifier's directory as it is
    /// (it must have one label), or a causal LM's with a new `score` head drawn with `seed`
    /// (``init(directory:addingScoreHead:seed:)``), as TRL's `RewardTrainer` loads
    /// `AutoModelForSequenceClassification` with `num_labels=1`. The config's `pad_token_id` becomes
    /// `padTokenId`, as TRL sets it from the tokenizer: the score is read at the last token that is not
    /// padding (``lastNonPadScores(_:)``), and a saved directory then reads it at the same token.
    public static func rewardModel(directory: URL, padTokenId: Int, seed: UInt64, ggufWeights: GGUFWeights = .keep,
                                   quantization: BaseQuantization? = nil) throws -> SequenceClassifier {
        var source = try ModelSource(directory: directory, ggufWeights: ggufWeights)
        source.quantization = quantization
        if source.config.isSequenceClassifier {
            guard source.config.numLabels == 1 else {
                throw ModelError.invalidConfig(file: source.reader.file, field: "num_labels",
                                               problem: "is \(source.config.numLabels); a reward model has one label (one score per sequence)")
            }
        } else {
            try source.addScoreHead(labels: 1, seed: seed)
        }
        try source.setPadTokenId(padTokenId)
        return try SequenceClassifier(source)
    }

    /// Makes the `score` head a trainable leaf beside LoRA adapters (PEFT's `modules_to_save` of its
    /// `SEQ_CLS` task), copied first so that updates never touch a checkpoint's memory mapping.
    public func makeHeadTrainable() {
        score.weight = score.weight.copied()
        score.weight.requiresGrad = true
    }

    /// The id a reward model's score is read before (the config's `pad_token_id`): `padToken` when given,
    /// else the tokenizer's pad token, else its EOS token, as TRL's `RewardTrainer` chooses it; throws
    /// when there is none or it is not in the vocabulary.
    public static func padTokenId(tokenizer: Tokenizer, padToken: String? = nil) throws -> Int {
        guard let token = padToken ?? tokenizer.config.padToken ?? tokenizer.config.eosToken else {
            throw ModelError.invalidConfig(file: "tokenizer_config.json", field: "pad_token",
                                           problem: "is missing, and so is eos_token; a reward model reads its score at the last "
                                               + "token that is not padding, so it needs a pad token (set pad_token)")
        }
        guard let id = tokenizer.id(of: token) else {
            throw ModelError.invalidConfig(file: "tokenizer_config.json", field: "pad_token",
                                           problem: "'\(token)' is not in the tokenizer's vocabulary; give a token it has "
                                               + "(e.g. '\(tokenizer.config.eosToken ?? "<|im_end|>")')")
        }
        return id
    }

    /// The first score of each sequence, with autograd, `[sequences]`, at its last token whose id is
    /// not `config.padTokenId` (the first token when every token is padding; the last token when the
    /// config has no pad id), as transformers' `…ForSequenceClassification` pools it. The sequences
    /// run as one left-padded batch; positions count real tokens, so each score is that of the
    /// sequence alone.
    public func lastNonPadScores(_ sequences: [[Int]]) -> Tensor {
        let pad = config.padTokenId
        let batch = LeftPaddedBatch(sequences, padId: pad ?? 0)
        let rows = sequences.enumerated().map { r, sequence in
            let last = pad.map { pad in sequence.lastIndex { $0 != pad } ?? 0 } ?? Swift.max(sequence.count - 1, 0)
            return r * batch.length + batch.length - sequence.count + last
        }
        let hidden = hiddenStates(batch).reshaped([batch.rows * batch.length, config.hiddenSize])
        return score(hidden.indexSelect(rows, indexShape: [rows.count])).slice(axis: 1, 0..<1).reshaped([rows.count])
    }
}
