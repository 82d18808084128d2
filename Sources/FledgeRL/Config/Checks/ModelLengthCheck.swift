import Foundation
import FledgeHub
import FledgeLM

extension ConfigCheck {
    /// The checks every trainer runs first.
    static var shared: [ConfigCheck] { [.learningRate, .learningRateSchedule, .maxSeqLengthFromModel] }

    /// `max_seq_length` comes from the model (`max_position_embeddings` in its `config.json`, or a GGUF
    /// file's `{architecture}.context_length`) when not set, and is capped to it when set higher, as
    /// Unsloth does. Without a readable local model or cached Hub snapshot it stays as given; the
    /// trainer reads the model when it loads it.
    static var maxSeqLengthFromModel: ConfigCheck {
        ConfigCheck { resolution in
            let run = resolution.config.run
            guard let nameOrPath = run.modelNameOrPath,
                  let (modelLength, source) = modelLength(nameOrPath, revision: run.modelRevision == "main" ? nil : run.modelRevision)
            else { return }
            let keyPath: WritableKeyPath<Config, Int?> = \.training.maxSeqLength
            guard let length = resolution.config[keyPath: keyPath] else {
                resolution.derive(keyPath, modelLength)
                return
            }
            if length > modelLength {
                resolution.change(keyPath, to: modelLength, "capped to the model's \(source)")
            }
        }
    }

    /// The model's context length and where it was read, when the model is readable.
    private static func modelLength(_ nameOrPath: String, revision: String?) -> (Int, String)? {
        if nameOrPath.lowercased().hasSuffix(".gguf") {
            let path = nameOrPath
            guard let file = try? GGUFFile(url: URL(fileURLWithPath: path)),
                  let architecture = try? file.string("general.architecture"),
                  let length = try? file.integer(architecture + ".context_length") else { return nil }
            return (length, "\(architecture).context_length (\(length)) in \(path)")
        }
        guard let path = ModelLocation.cached(nameOrPath, revision: revision)?.path,
              let data = FileManager.default.contents(atPath: path + "/config.json"),
              case .int(let length) = (try? JSONParser.parse(Array(data)))?["max_position_embeddings"] else { return nil }
        return (length, "max_position_embeddings (\(length)) in \(path)/config.json")
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
