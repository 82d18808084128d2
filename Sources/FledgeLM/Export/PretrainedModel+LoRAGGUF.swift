import Foundation
import FledgeTensor

extension PretrainedModel {
    /// The types `saveLoRAGGUF` writes: those of llama.cpp's convert_lora_to_gguf.py (`--outtype`).
    public static let loraGGUFTypes: [ExportType] = [.f32, .f16, .bf16, .q8_0]

    /// Writes the attached LoRA adapters alone as a llama.cpp LoRA adapter GGUF file, as
    /// convert_lora_to_gguf.py writes one: `general.architecture` (the base model's), `general.type`
    /// `adapter`, `adapter.type` `lora`, `adapter.lora.alpha`, and for each adapted projection
    /// `blk.N.<name>.weight.lora_a` (PEFT's A, `[r, in]`) and `….lora_b` (B, `[out, r]`), a `llama`
    /// model's query and key B rows permuted as the base weight's rows are. llama.cpp scales the
    /// update by `alpha / r`, so `adapter.lora.alpha` is the adapters' scale times `r` (PEFT's
    /// `lora_alpha`, or `lora_alpha · √r` for rank-stabilised LoRA). Load it with llama.cpp's
    /// `--lora FILE` on the base model's GGUF file.
    ///
    /// Throws when no adapters are attached, they are DoRA adapters, modules train whole beside them, the architecture is one `saveGGUF` does not write, or
    /// `type` is not one of `loraGGUFTypes`.
    public func saveLoRAGGUF(to url: URL, type: ExportType = .f32) throws {
        guard let options = loraOptions else { throw AdapterError.noAdapters(operation: "saveLoRAGGUF") }
        guard !options.useDoRA else {
            throw AdapterError.invalidOption(field: "use_dora", problem: "is true; llama.cpp's LoRA adapter files hold A and B "
                + "only, not DoRA's magnitudes (convert_lora_to_gguf.py refuses DoRA too); export the merged model instead")
        }
        guard modulesToSave.isEmpty else {
            throw AdapterError.invalidOption(field: "modules_to_save", problem: "is \(modulesToSave); Fledge writes A and B only "
                + "to a LoRA adapter GGUF, not whole trained modules; export the merged model instead")
        }
        guard Self.loraGGUFTypes.contains(type) else {
            throw AdapterError.invalidOption(field: "dtype", problem: "is \(type.rawValue); a LoRA adapter GGUF is written as "
                + Self.loraGGUFTypes.map(\.rawValue).joined(separator: ", ") + " (as convert_lora_to_gguf.py writes it)")
        }
        let source = directory.path
        let architecture = try GGUFModelMetadata.architecture(config, source: source)
        var writer = GGUFWriter()
        writer.add("general.architecture", .string(architecture.name))
        writer.add("general.type", .string("adapter"))
        writer.add("general.name", .string(url.deletingPathExtension().lastPathComponent))
        writer.add("general.file_type", .uint32(type.llamaFileType))
        if type.safeTensorsDType == nil { writer.add("general.quantization_version", .uint32(2)) }
        writer.add("adapter.type", .string("lora"))
        writer.add("adapter.lora.alpha", .float32(options.scale * Float(options.r)))
        for (module, adapter) in loraModules {
            guard let ggufName = GGUFTensorNames.ggufName(module + ".weight", architecture: architecture) else {
                throw ModelError.invalidFile(path: source, problem: "has an adapter on '\(module)', which llama.cpp's "
                    + "'\(architecture.name)' architecture has no tensor for")
            }
            var b = adapter.b
            let (query, key) = GGUFTensorNames.isQueryOrKeyProjection(ggufName)
            if architecture.permutesQueryKeyRows && (query || key) {
                b = try Self.permuteRows(b, heads: query ? config.heads : config.kvHeads, file: source, tensor: module + ".lora_B.weight")
            }
            try writer.add(ggufName + ".lora_a", adapter.a, as: type.ggmlType(shape: adapter.a.shape))
            try writer.add(ggufName + ".lora_b", b, as: type.ggmlType(shape: b.shape))
        }
        try writer.write(to: url)
    }
}
