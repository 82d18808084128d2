import Foundation
import FledgeLM
import FledgeTensor

/// PPO's two trained models as one ``TrainableModel`` (TRL's `PolicyAndValueWrapper`): the policy and
/// the value model share one optimizer. The value model's parameters are named `value_model.<name>`;
/// a checkpoint holds the policy's weights as usual (PEFT adapter files or a model directory) and the
/// value model's trainable tensors in `value_model.safetensors`.
public final class PolicyAndValue: TrainableModel {
    public static let valueFileName = "value_model.safetensors"
    static let valuePrefix = "value_model."

    public let policy: LanguageModel
    /// A sequence classifier scoring every position (``SequenceClassifier/positionScores(_:from:)``).
    public let value: SequenceClassifier

    /// Trains `policy` and `value` together.
    public init(policy: LanguageModel, value: SequenceClassifier) {
        self.policy = policy
        self.value = value
    }

    /// The value model PPO starts from: the reward model `rewardModel` (a sequence-classifier directory)
    /// when given, as TRL's PPO script does, else the policy's directory with a new one-label score
    /// head; with `lora` it gets LoRA adapters and a trainable score head, else every weight trains.
    public static func valueModel(policyDirectory: URL, rewardModel: URL?, lora: LoRAOptions?, seed: UInt64) throws -> SequenceClassifier {
        let model: SequenceClassifier
        if let rewardModel {
            let loaded = try PretrainedModel.load(directory: rewardModel)
            guard let classifier = loaded as? SequenceClassifier else {
                throw TrainingError.invalidSetting("reward_model_path \(rewardModel.path) is a causal language model "
                    + "(\(loaded.config.modelType)); a reward model is a sequence classifier (…ForSequenceClassification "
                    + "with a `score` head)")
            }
            model = classifier
        } else {
            model = try SequenceClassifier(directory: policyDirectory, addingScoreHead: 1, seed: seed)
        }
        if let lora {
            try model.addLoRA(lora)
            try model.makeHeadTrainable()
        } else {
            model.makeFullyTrainable()
        }
        return model
    }

    public var trainableParameters: [Parameter] {
        policy.trainableParameters + value.trainableParameters.map {
            Parameter(name: Self.valuePrefix + $0.name, tensor: $0.tensor, decays: $0.decays)
        }
    }

    public func saveTrainedWeights(to directory: URL) throws {
        try policy.saveTrainedWeights(to: directory)
        try SafeTensorsWriter.write(value.trainableParameters.map { (name: $0.name, tensor: $0.tensor) }, metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent(Self.valueFileName))
    }

    public func loadTrainedWeights(from directory: URL) throws {
        try policy.loadTrainedWeights(from: directory)
        try value.loadTrainableWeights(from: directory.appendingPathComponent(Self.valueFileName))
    }

    public var randomStates: [String: UInt64] {
        policy.randomStates.merging(value.randomStates.map { (Self.valuePrefix + $0.key, $0.value) }) { $1 }
    }

    public func restoreRandomStates(_ states: [String: UInt64]) throws {
        try policy.restoreRandomStates(states.filter { !$0.key.hasPrefix(Self.valuePrefix) })
        try value.restoreRandomStates(Dictionary(uniqueKeysWithValues: states.compactMap { key, state in
            key.hasPrefix(Self.valuePrefix) ? (String(key.dropFirst(Self.valuePrefix.count)), state) : nil
        }))
    }
}
