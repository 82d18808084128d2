import Foundation
import FledgeLM
import FuzzSupport

/// A model directory's config.json (read with Fledge's JSON reader), then the weight shapes it
/// implies, which size every allocation of a model.
func fuzzModelConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ScratchDirectory.write(fuzzInput(data, size), to: "config.json")
    guard (try? ModelConfig(directory: ScratchDirectory.url)) != nil,
          case .object(let object) = try? JSONParser.parse(fuzzInput(data, size)),
          let weights = try? LanguageModel.expectedWeights(configJSON: object) else { return 0 }
    for (name, shape) in weights {
        precondition(shape.allSatisfy { $0 > 0 }, "\(name) has shape \(shape)")
        _ = shape.reduce(4, *)
    }
    return 0
}

runFuzzer(fuzzModelConfig)
