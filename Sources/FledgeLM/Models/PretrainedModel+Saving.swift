import Foundation
import FledgeNN
import FledgeTensor

extension PretrainedModel {
    /// The tokenizer and chat-template files a model directory may hold, copied by `saveModel`.
    static let tokenizerFileNames = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                                     "vocab.json", "merges.txt", "tokenizer.model", "chat_template.jinja", "chat_template.json"]

    /// Writes a Hugging Face model directory that transformers' `from_pretrained` loads:
    /// `config.json` (the source's, with `dtype` set to `dtype`), one `model.safetensors` with
    /// every weight under its checkpoint name, `generation_config.json` and the tokenizer files
    /// of the source directory.
    ///
    /// With `mergeAdapters`, each LoRA adapter is folded into its base weight as PEFT's
    /// `merge_and_unload` does, `W + scale·B·A`, in the written file only: the model in memory
    /// keeps its adapters (whether switched on or not), and modules trained whole beside them
    /// (`modules_to_save`) are written trained. Without it, the base weights are written as they
    /// are, those modules' original weights included (save the adapters with `saveAdapter`). Trained weights of full fine-tuning
    /// are written as they are now. A quantized base is written dequantized (float).
    public func saveModel(to directory: URL, mergeAdapters: Bool = true, dtype: DType = .float32) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tensors = exportedWeights(mergeAdapters: mergeAdapters)
        try SafeTensorsWriter.write(tensors, dtype: dtype, metadata: ["format": "pt"],
                                    to: directory.appendingPathComponent("model.safetensors"))
        try writeConfig(to: directory.appendingPathComponent("config.json"), dtype: dtype)
        try copyOrWriteGenerationConfig(to: directory)
        for name in Self.tokenizerFileNames {
            let source = self.directory.appendingPathComponent(name), target = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path), source.standardizedFileURL != target.standardizedFileURL else { continue }
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: source, to: target)
        }
    }

    /// Every weight under its checkpoint name as float, for writing: with `mergeAdapters`, each
    /// LoRA adapter folded into its base weight (`W + scale·B·A`, each row rescaled to its magnitude
    /// with DoRA: PEFT's `merge_and_unload`) and the trained weights of modules trained whole beside
    /// the adapters in place of the base's (without it, the base's); a quantized base dequantized.
    func exportedWeights(mergeAdapters: Bool) -> [(name: String, tensor: Tensor)] {
        var merged: [String: Tensor] = [:]
        for saved in savedModuleWeights { merged[saved.name] = mergeAdapters ? saved.trained : saved.original }
        if mergeAdapters {
            for (module, linear) in namedLinears {
                guard let adapter = linear.adapter as? LoRAAdapter else { continue }
                merged[module + ".weight"] = adapter.mergedWeight(base: linear.denseWeight)
            }
        }
        for (module, linear) in namedLinears where linear.quantizedWeight != nil && merged[module + ".weight"] == nil {
            merged[module + ".weight"] = linear.denseWeight
        }
        return namedWeights.map { name, weight in (name: name, tensor: merged[name] ?? weight) }
    }

    /// config.json as loaded, with the dtype field (`dtype`, or transformers 4's `torch_dtype`)
    /// saying how the weights are now stored.
    private func writeConfig(to url: URL, dtype: DType) throws {
        guard case .object(var fields) = try JSONParser.parse(Array(configData)) else {
            preconditionFailure("config.json was read as a JSON object when the model loaded")
        }
        let name: String = switch dtype {
        case .float16: "float16"
        case .bfloat16: "bfloat16"
        case .float64: "float64"
        default: "float32"
        }
        let keys = ["dtype", "torch_dtype"].filter { fields[$0] != nil }
        for key in keys.isEmpty ? ["dtype"] : keys { fields[key] = .string(name) }
        try AtomicFile.write(Data((JSONWriter(indent: 2).string(.object(fields)) + "\n").utf8), to: url)
    }

    /// The source's generation_config.json, or one with the EOS and pad ids of a model built in memory.
    private func copyOrWriteGenerationConfig(to directory: URL) throws {
        let source = self.directory.appendingPathComponent("generation_config.json")
        let target = directory.appendingPathComponent("generation_config.json")
        if FileManager.default.fileExists(atPath: source.path) {
            guard source.standardizedFileURL != target.standardizedFileURL else { return }
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: source, to: target)
            return
        }
        var fields = JSONObject([("eos_token_id", .array(generationConfig.eosTokenIds.map(JSONValue.int)))])
        if let pad = generationConfig.padTokenId { fields["pad_token_id"] = .int(pad) }
        try AtomicFile.write(Data((JSONWriter(indent: 2).string(.object(fields)) + "\n").utf8), to: target)
    }
}
