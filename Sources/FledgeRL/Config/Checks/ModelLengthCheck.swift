import Foundation
import FledgeHub
import FledgeLM

extension ConfigCheck {
    /// The checks every trainer runs first.
    static var shared: [ConfigCheck] { [.learningRate, .maxSeqLengthFromModel] }

    /// `max_seq_length` comes from the model (`max_position_embeddings` in its `config.json`) when not
    /// set, and is capped to it when set higher, as Unsloth does. Without a readable local model
    /// directory or cached Hub snapshot it stays as given; the trainer reads the model when it loads it.
    static var maxSeqLengthFromModel: ConfigCheck {
        ConfigCheck { resolution in
            let run = resolution.config.run
            guard let nameOrPath = run.modelNameOrPath,
                  let directory = ModelLocation.cached(nameOrPath, revision: run.modelRevision == "main" ? nil : run.modelRevision)?.path,
                  let data = FileManager.default.contents(atPath: directory + "/config.json"),
                  case .int(let modelLength) = (try? JSONParser.parse(Array(data)))?["max_position_embeddings"]
            else { return }
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

    /// A completion must leave room for a prompt in `max_seq_length` (by now taken from the model when
    /// the model directory is readable): the trainers refuse such a setting before generating.
    static func completionLeavesRoomForPrompt(_ keyPath: WritableKeyPath<Config, Int>) -> ConfigCheck {
        ConfigCheck { resolution in
            guard let positions = resolution.config.training.maxSeqLength,
                  resolution.config[keyPath: keyPath] >= positions
            else { return }
            resolution.fail(keyPath, "leaves no room for a prompt in max_seq_length (\(positions)); set it below \(positions)")
        }
    }
}
