import FledgeLM
import FuzzSupport

/// A GGUF file's metadata mapped to a model config as loading the file does (`GGUFFile.modelConfigJSON`:
/// the common keys and each family's own, `GGUFFamilyConfig`), then that config read as a model
/// directory's config.json is and the weight shapes it implies, which size every allocation of a model.
func fuzzGGUFConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchDirectory.write(fuzzInput(data, size), to: "model.gguf")
    guard let file = try? GGUFFile(url: url), let json = try? file.modelConfigJSON() else { return 0 }
    ScratchDirectory.write(Array(JSONWriter(indent: 2).string(.object(json)).utf8), to: "config.json")
    guard (try? ModelConfig(directory: ScratchDirectory.url)) != nil,
          let weights = try? LanguageModel.expectedWeights(configJSON: json) else { return 0 }
    for (name, shape) in weights {
        precondition(shape.allSatisfy { $0 > 0 }, "\(name) has shape \(shape)")
        _ = shape.reduce(4, *)
    }
    return 0
}

runFuzzer(fuzzGGUFConfig)
