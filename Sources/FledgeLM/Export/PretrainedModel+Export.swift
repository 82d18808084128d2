import Foundation
import FledgeTensor

extension PretrainedModel {
    /// Writes the model, with each LoRA adapter merged into its base weight when `mergeAdapters`
    /// (as PEFT's `merge_and_unload`), as `format` with weights stored as `type`: a Hugging Face
    /// directory at `url` (`saveModel`, plus tokenizer.json and tokenizer_config.json rebuilt from
    /// `tokenizer.ggml.*` for a model read from GGUF), or a GGUF file at `url` (`saveGGUF`). A
    /// block type for a safetensors directory is an error.
    public func export(to url: URL, format: ExportFormat, type: ExportType = .f32, mergeAdapters: Bool = true) throws {
        switch format {
        case .gguf:
            try saveGGUF(to: url, type: type, mergeAdapters: mergeAdapters)
        case .safetensors:
            guard let dtype = type.safeTensorsDType else {
                throw ModelError.invalidConfig(file: url.path, field: "dtype", problem: "is \(type.rawValue), a GGML block format that "
                    + "safetensors does not store; export safetensors as f32, f16 or bf16, or export GGUF")
            }
            try saveModel(to: url, mergeAdapters: mergeAdapters, dtype: dtype)
            if ModelSource.isGGUF(directory) { try writeGGUFTokenizerFiles(to: url) }
        }
    }

    /// Writes a GGUF version 3 file that llama.cpp loads and runs: the architecture metadata of
    /// `GGUFModelMetadata` and `GGUFFamilyMetadata` (every model type Fledge reads from GGUF), the
    /// tokenizer (`GGUFTokenizerMetadata`: copied from a GGUF source, built from a byte-level BPE
    /// tokenizer.json, or, without a tokenizer, only the EOS and pad ids), and every weight under its
    /// llama.cpp name, a `llama` (and `smollm3`) model's Q and K rows permuted as convert_hf_to_gguf.py
    /// permutes them, Gemma's norm weights plus 1, Phi-3's LongRoPE factors as tensors. Vectors are
    /// stored F32 and matrices as `type` (`ExportType.ggmlType(shape:)` says where it falls back).
    public func saveGGUF(to url: URL, type: ExportType = .f32, mergeAdapters: Bool = true) throws {
        let source = directory.path
        let architecture = try GGUFModelMetadata.architecture(config, source: source)
        var writer = GGUFWriter()
        let name = directory.deletingPathExtension().lastPathComponent
        let reader = ConfigReader(file: source, object: try configObject())
        for (key, value) in try GGUFModelMetadata.entries(config, reader: reader, architecture: architecture, name: name, type: type,
                                                          source: source) {
            writer.add(key, value)
        }
        for (key, value) in try ggufTokenizerEntries() { writer.add(key, value) }
        for (tensorName, tensor) in GGUFFamilyMetadata.extraTensors(config, architecture: architecture) {
            try writer.add(tensorName, tensor, as: ExportType.f32.ggmlType)
        }
        if architecture.normWeightShift != 0 && !config.tieWordEmbeddings {
            // llama.cpp's Gemma takes its output head from token_embd, and the converter drops lm_head.
            throw ModelError.invalidConfig(file: source, field: "tie_word_embeddings", problem: "is false; llama.cpp's "
                + "'\(architecture.name)' uses the token embedding as output head (export a safetensors directory instead)")
        }
        for (weightName, weight) in exportedWeights(mergeAdapters: mergeAdapters) {
            if config.tieWordEmbeddings && weightName == "lm_head.weight" { continue }
            guard let ggufName = GGUFTensorNames.ggufName(weightName, architecture: architecture) else {
                throw ModelError.invalidFile(path: source, problem: "has weight '\(weightName)', which llama.cpp's '\(architecture.name)' "
                    + "architecture has no tensor for")
            }
            var tensor = weight
            let (query, key) = GGUFTensorNames.isQueryOrKeyProjection(ggufName)
            if architecture.permutesQueryKeyRows && (query || key) {
                tensor = try Self.permuteRows(tensor, heads: query ? config.heads : config.kvHeads, file: source, tensor: weightName)
            }
            if GGUFTensorNames.isNormWeight(ggufName) && architecture.normWeightShift != 0 { tensor = tensor + architecture.normWeightShift }
            try writer.add(ggufName, tensor, as: type.ggmlType(shape: tensor.shape))
        }
        try writer.write(to: url)
    }

    /// config.json as the model was read (for a GGUF source, the one its metadata describes).
    private func configObject() throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(Array(configData)) else {
            throw ModelError.invalidFile(path: directory.path, problem: "its config is not a JSON object")
        }
        return object
    }

    /// convert_hf_to_gguf.py's `LlamaModel.permute`, the inverse of `Checkpoint.unpermutedRowOrder`:
    /// within each head of `2·half` rows, Hugging Face row `j·half + i` becomes GGUF row `2i + j`.
    static func permuteRows(_ tensor: Tensor, heads: Int, file: String, tensor name: String) throws -> Tensor {
        let huggingFaceToGGUF = try Checkpoint.unpermutedRowOrder(rows: tensor.shape[0], heads: heads, file: file, tensor: name)
        var ggufToHuggingFace = [Int](repeating: 0, count: huggingFaceToGGUF.count)
        for (huggingFaceRow, ggufRow) in huggingFaceToGGUF.enumerated() { ggufToHuggingFace[ggufRow] = huggingFaceRow }
        return tensor.indexSelect(ggufToHuggingFace, indexShape: [ggufToHuggingFace.count])
    }

    /// The tokenizer metadata for `saveGGUF`: the GGUF source's, the model directory's
    /// tokenizer.json's, or (no tokenizer) the EOS and pad ids of the config.
    private func ggufTokenizerEntries() throws -> [(String, GGUFValue)] {
        if ModelSource.isGGUF(directory) { return GGUFTokenizerMetadata.entries(copiedFrom: try GGUFFile(url: directory)) }
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) {
            return try GGUFTokenizerMetadata.entries(directory: directory, tokenizer: try Tokenizer(directory: directory.path),
                                                     vocabularySize: config.vocabSize, eosTokenId: config.eosTokenIds.first)
        }
        let ids = [("tokenizer.ggml.eos_token_id", config.eosTokenIds.first), ("tokenizer.ggml.padding_token_id", config.padTokenId)]
        return ids.compactMap { key, id in id.map { (key, GGUFValue.uint32(UInt32($0))) } }
    }

    /// tokenizer.json and tokenizer_config.json as transformers' GGUF loader builds them from the
    /// GGUF source's `tokenizer.ggml.*` (nothing when it has no tokenizer).
    private func writeGGUFTokenizerFiles(to directory: URL) throws {
        let file = try GGUFFile(url: self.directory)
        guard file.metadata["tokenizer.ggml.model"] != nil else { return }
        let (root, config) = try Tokenizer.ggufDefinition(file)
        var fields = JSONObject([("tokenizer_class", .string("PreTrainedTokenizerFast"))])
        for (name, token) in config.specialTokens.sorted(by: { $0.key < $1.key }) { fields[name] = .string(token) }
        if let add = config.addBOSToken { fields["add_bos_token"] = .bool(add) }
        if let add = config.addEOSToken { fields["add_eos_token"] = .bool(add) }
        if config.chatTemplates.keys.sorted() == ["default"], let template = config.chatTemplates["default"] {
            fields["chat_template"] = .string(template)
        } else if !config.chatTemplates.isEmpty {
            fields["chat_template"] = .array(config.chatTemplates.sorted(by: { $0.key < $1.key }).map { name, template in
                .object(JSONObject([("name", .string(name)), ("template", .string(template))]))
            })
        }
        try AtomicFile.write(Data(JSONWriter(indent: 2).string(root).utf8), to: directory.appendingPathComponent("tokenizer.json"))
        try AtomicFile.write(Data((JSONWriter(indent: 2).string(.object(fields)) + "\n").utf8),
                             to: directory.appendingPathComponent("tokenizer_config.json"))
    }
}
