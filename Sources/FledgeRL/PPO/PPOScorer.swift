import Foundation
import FledgeLM

/// Where PPO's scores come from: a reward model that shares the policy's tokenizer (TRL's
/// `reward_model_path`, scored on the token ids at the last token), or reward functions on the
/// decoded text (their sum).
public enum PPOScorer {
    case rewardModel(SequenceClassifier)
    case functions([any RewardFunction])

    /// The scorer a resolved config names: `reward_model_path`, or else `reward_funcs` and
    /// `reward_command`; throws when there is none, or both.
    public static func make(config: PPOConfig) throws -> PPOScorer {
        let functions = try BuiltInRewards.make(run: config.run, maxCompletionLength: config.responseLength)
        guard let path = config.rewardModelPath else {
            guard !functions.isEmpty else {
                throw RewardError("PPO needs a reward: set reward_model_path (a sequence-classification model directory "
                    + "sharing the policy's tokenizer), or reward_funcs (\(BuiltInRewards.names.joined(separator: ", "))) "
                    + "or reward_command")
            }
            return .functions(functions)
        }
        guard functions.isEmpty else {
            throw RewardError("set either reward_model_path or reward_funcs/reward_command, not both (a reward model "
                + "that needs its own tokenizer goes in reward_funcs as model:DIR)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RewardError("reward_model_path \(path): no such directory; give a local sequence-classification model "
                + "directory (Fledge does not download models; TRL's default is a Hub name), or set reward_model_path: null "
                + "and score with reward_funcs or reward_command")
        }
        let model: PretrainedModel
        do {
            model = try PretrainedModel.load(directory: URL(fileURLWithPath: path))
        } catch {
            throw RewardError("reward_model_path \(path): \(error)")
        }
        guard let classifier = model as? SequenceClassifier else {
            throw RewardError("reward_model_path \(path) is a causal language model (\(model.config.modelType)); a reward "
                + "model is a sequence classifier (…ForSequenceClassification with a `score` head)")
        }
        return .rewardModel(classifier)
    }
}
