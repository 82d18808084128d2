import Foundation

extension ConfigCheck {
    /// The checks every trainer runs first.
    static var shared: [ConfigCheck] { [.learningRate, .maxSeqLengthFromModel] }

    /// `max_seq_length` comes from the model (`max_position_embeddings` in its `config.json`) when not
    /// set, and is capped to it when set higher, as Unsloth does. Without a readable local model
    /// directory it stays as given; the trainer reads the model when it loads it.
    static var maxSeqLengthFromModel: ConfigCheck {
        ConfigCheck { resolution in
            guard let (directory, modelLength) = modelPositions(resolution) else { return }
            let keyPath: WritableKeyPath<Config, Int?> = \.training.maxSeqLength
            guard let length = resolution.config[keyPath: keyPath] else {
                resolution.derive(keyPath, modelLength)
                return
            }
            if length > modelLength {
                resolution.change(
                    keyPath, to: modelLength,
                    "capped to the model's max_position_embeddings (\(modelLength)) in \(directory)/config.json")
            }
        }
    }

    /// A completion must leave room for a prompt within the model's positions (`max_position_embeddings`
    /// in its `config.json`, when the model directory is readable): the generation cache holds prompt
    /// plus completion.
    static func completionFitsModel(_ keyPath: WritableKeyPath<Config, Int>) -> ConfigCheck {
        ConfigCheck { resolution in
            guard let (directory, modelLength) = modelPositions(resolution),
                  resolution.config[keyPath: keyPath] >= modelLength
            else { return }
            resolution.fail(
                keyPath,
                "the model in \(directory) has \(modelLength) positions (max_position_embeddings), which must hold "
                    + "the prompt and the completion; set it below \(modelLength)")
        }
    }

    /// The model directory and its `max_position_embeddings`, when `model_name_or_path` is a readable
    /// local directory whose `config.json` gives them.
    private static func modelPositions(_ resolution: ConfigResolution<Config>) -> (String, Int)? {
        guard let directory = resolution.config.run.modelNameOrPath,
              let data = FileManager.default.contents(atPath: directory + "/config.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let modelLength = object["max_position_embeddings"] as? Int
        else { return nil }
        return (directory, modelLength)
    }
}
