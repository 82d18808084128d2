import Foundation
import FledgeNN
import FledgeTensor

extension ModelSource {
    /// Turns a causal LM's source into a sequence classifier's: `…ForSequenceClassification` in
    /// `architectures`, `num_labels` set, the output head dropped and a new `score` head `[labels, hidden]`
    /// drawn from N(0, `initializer_range`²) with `seed`, as transformers initialises a head the
    /// checkpoint lacks.
    mutating func addScoreHead(labels: Int, seed: UInt64) throws {
        var fields = try configFields()
        let range = Float(fields["initializer_range"].flatMap { if case .double(let v) = $0 { v } else { nil } } ?? 0.02)
        config.architectures = config.architectures.map { $0.replacingOccurrences(of: "ForCausalLM", with: "ForSequenceClassification") }
        if !config.isSequenceClassifier { config.architectures = [config.modelType.capitalized + "ForSequenceClassification"] }
        config.numLabels = labels
        fields["architectures"] = .array(config.architectures.map(JSONValue.string))
        fields["num_labels"] = .int(labels)
        configData = Data(JSONWriter(indent: 2).string(.object(fields)).utf8)
        checkpoint?.ignore("lm_head.weight")
        var generator = SeededGenerator(seed: seed)
        checkpoint?.add("score.weight", Tensor.normal([labels, config.hiddenSize], standardDeviation: range, using: &generator))
    }

    /// Sets `pad_token_id` in the config and in the config.json a saved model writes.
    mutating func setPadTokenId(_ id: Int) throws {
        var fields = try configFields()
        config.padTokenId = id
        fields["pad_token_id"] = .int(id)
        configData = Data(JSONWriter(indent: 2).string(.object(fields)).utf8)
    }

    private func configFields() throws -> JSONObject {
        guard case .object(let fields) = try JSONParser.parse(Array(configData)) else {
            throw ModelError.invalidConfig(file: reader.file, field: "(root)", problem: "is not a JSON object")
        }
        return fields
    }
}
