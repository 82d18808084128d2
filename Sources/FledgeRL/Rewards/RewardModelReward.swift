import Foundation
import FledgeLM

/// Rewards from a sequence-classification reward model directory (`…ForSequenceClassification`
/// with its tokenizer): the first score of prompt + completion, as TRL computes it. A text prompt is
/// joined to the completion and tokenized without special tokens; a chat prompt gets the completion
/// as an assistant message and is rendered with the reward model's chat template (and the
/// `chat_template_kwargs` variables).
public final class RewardModelReward: RewardFunction {
    public let name: String
    let model: SequenceClassifier
    let tokenizer: Tokenizer
    let chatTemplateVariables: JSONObject

    /// Loads the model and tokenizer of `directory`; the name defaults to the directory's name.
    public init(directory: URL, name: String? = nil, chatTemplateVariables: JSONObject = JSONObject()) throws {
        self.name = name ?? directory.lastPathComponent
        self.chatTemplateVariables = chatTemplateVariables
        let loaded: PretrainedModel
        do {
            loaded = try PretrainedModel.load(directory: directory)
        } catch {
            throw RewardError("reward model \(directory.path): \(error)")
        }
        guard let classifier = loaded as? SequenceClassifier else {
            throw RewardError(
                "reward model \(directory.path) is a causal language model (\(loaded.config.modelType)); a reward "
                    + "model is a sequence classifier (…ForSequenceClassification with a `score` head)")
        }
        model = classifier
        do {
            tokenizer = try Tokenizer(directory: directory.path)
        } catch {
            throw RewardError("reward model \(directory.path): \(error)")
        }
    }

    public func score(_ samples: [RewardSample]) throws -> [Double?] {
        let sequences = try samples.map(tokens)
        let scored = sequences.indices.filter { !sequences[$0].isEmpty }
        let scores = scored.isEmpty ? [] : Tensor.withoutGrad { model.classify(scored.map { sequences[$0] }) }
        var rewards = [Double?](repeating: nil, count: samples.count)
        for (index, score) in zip(scored, scores) { rewards[index] = Double(score[0]) }
        return rewards
    }

    private func tokens(_ sample: RewardSample) throws -> [Int] {
        switch sample.prompt {
        case .string(let prompt):
            return tokenizer.encode(prompt + sample.completion, addSpecialTokens: false)
        case .array(let messages):
            let reply = JSONValue.object(JSONObject([("role", .string("assistant")), ("content", .string(sample.completion))]))
            do {
                return try tokenizer.applyChatTemplate(messages: messages + [reply], variables: chatTemplateVariables).ids
            } catch {
                throw RewardError("reward model '\(name)': cannot render the chat prompt with its chat template: \(error)")
            }
        default:
            throw RewardError("reward model '\(name)': the prompt is \(sample.prompt.kind); it must be text or a list of messages")
        }
    }
}
