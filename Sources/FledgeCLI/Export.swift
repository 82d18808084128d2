import ArgumentParser
import Foundation
import FledgeLM

/// `fledge export`: a model, with a LoRA adapter merged into it or not, written as a Hugging Face
/// safetensors directory or a GGUF file.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model (with a LoRA adapter merged in) as a Hugging Face directory or a GGUF file.",
        discussion: """
            --format safetensors writes config.json, model.safetensors (f32, f16 or bf16), generation_config.json and the \
            tokenizer files into the --output directory, as transformers' from_pretrained loads them. --format gguf writes one \
            GGUF file (model types llama, qwen2, qwen3) with the tokenizer and chat template, as llama.cpp loads it: vectors F32, \
            matrices in --dtype (q4_k falls back to q8_0 for rows that are not multiples of 256). See docs/gguf.md.
            """)

    @Option(help: "A Hugging Face model directory, a .gguf file, or a Hub id (org/name[@revision]).") var model: String
    @Option(help: "A PEFT adapter directory (from fledge grpo/sft, or PEFT) to merge into the model's weights.") var adapter: String?
    @Option(help: "The directory (safetensors) or file (gguf) to write.") var output: String
    @Option(help: "safetensors or gguf.") var format: ExportFormat
    @Option(help: "f32, f16, bf16, or for gguf also q8_0, q4_0, q4_k.") var dtype: ExportType = .f32

    func validate() throws {
        if format == .safetensors && dtype.safeTensorsDType == nil {
            throw ValidationError("--dtype \(dtype.rawValue) is a GGML block format, which safetensors does not store; "
                + "use f32, f16 or bf16 with --format safetensors, or --format gguf")
        }
        if format == .gguf && !output.lowercased().hasSuffix(".gguf") {
            throw ValidationError("--output '\(output)' must be a file name ending in .gguf for --format gguf")
        }
    }

    func run() throws {
        let lm = try loadModel(model, adapter: adapter)
        try lm.export(to: URL(fileURLWithPath: output), format: format, type: dtype, mergeAdapters: true)
        print("wrote \(output) (\(format.rawValue), \(dtype.rawValue)\(adapter == nil ? "" : ", adapter merged"))")
    }
}

extension ExportFormat: ExpressibleByArgument {}
extension ExportType: ExpressibleByArgument {}
