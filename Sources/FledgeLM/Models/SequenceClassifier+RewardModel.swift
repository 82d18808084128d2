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

    /// Trains the `score` head whole beside the attached LoRA adapters (PEFT's `modules_to_save` of its
    /// `SEQ_CLS` task: `classifier`, `score`, `pre_classifier`), with the modules `extra` names
    /// (`lora_modules_to_save`), as ``trainModulesFully(_:)`` does; throws without adapters.
    public func makeHeadTrainable(alongWith extra: [String] = []) throws {
        try trainModulesFully(extra + PEFTAdapterConfig.classifierHeadModules.filter { !extra.contains($0) })
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

    /// The first score of each sequence, with autograd, `[sequences]`, at its last token that is not
    /// padding (``pooledScores(_:)``).
    public func lastNonPadScores(_ sequences: [[Int]]) -> Tensor {
        pooledScores(sequences).slice(axis: 1, 0..<1).reshaped([sequences.count])
    }
}
