import ArgumentParser
import Foundation
import FledgeHub
import FledgeLM

/// `fledge export`: a model, with a LoRA adapter merged into it or not, written as a Hugging Face
/// safetensors directory or a GGUF file.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model (with a LoRA adapter merged in) as a Hugging Face directory or a GGUF file.",
        discussion: """
            --format safetensors writes config.json, model.safetensors (f32, f16 or bf16), generation_config.json and the \
            tokenizer files into the --output directory, as transformers' from_pretrained loads them. --format gguf writes one \
            GGUF file (model types llama, qwen2, qwen3, phi3, gemma2, gemma3_text, olmo2, smollm3) with the tokenizer and chat \
            template, as llama.cpp loads it: vectors F32, matrices in --dtype (q4_k falls back to q8_0 for rows that are not \
            multiples of 256). --adapter-only (with --adapter and --format gguf) writes the adapter alone as a llama.cpp LoRA \
            adapter GGUF (f32, f16, bf16 or q8_0), to load with llama.cpp's --lora on the base model's GGUF file. See docs/gguf.md.
            """)

    @Option(help: "A Hugging Face model directory, a .gguf file, or a Hub id (org/name[@revision]).") var model: String
    @Option(help: "A PEFT adapter directory (from fledge grpo/sft, or PEFT) to merge into the model's weights.") var adapter: String?
    @Option(help: "The directory (safetensors) or file (gguf) to write.") var output: String
    @Option(help: "safetensors or gguf.") var format: ExportFormat
    @Option(help: "f32, f16, bf16, or for gguf also q8_0, q4_0, q4_k.") var dtype: ExportType = .f32
    @Flag(help: "Write the --adapter alone as a llama.cpp LoRA adapter GGUF (with --format gguf), not a merged model.")
    var adapterOnly = false

    func validate() throws {
        if format == .safetensors && dtype.safeTensorsDType == nil {
            throw ValidationError("--dtype \(dtype.rawValue) is a GGML block format, which safetensors does not store; "
                + "use f32, f16 or bf16 with --format safetensors, or --format gguf")
        }
        if format == .gguf && !output.lowercased().hasSuffix(".gguf") {
            throw ValidationError("--output '\(output)' must be a file name ending in .gguf for --format gguf")
        }
        if adapterOnly {
            guard adapter != nil, format == .gguf else {
                throw ValidationError("--adapter-only writes a LoRA adapter as a llama.cpp GGUF file: give --adapter DIR and --format gguf")
            }
            guard PretrainedModel.loraGGUFTypes.contains(dtype) else {
                throw ValidationError("--dtype \(dtype.rawValue) is not written for a LoRA adapter GGUF; use "
                    + PretrainedModel.loraGGUFTypes.map(\.rawValue).joined(separator: ", "))
            }
        }
    }

    func run() throws {
        let lm = try exportedModel()
        if adapterOnly {
            try lm.saveLoRAGGUF(to: URL(fileURLWithPath: output), type: dtype)
            print("wrote \(output) (llama.cpp LoRA adapter, \(dtype.rawValue); load it with --lora on the base model's GGUF file)")
            return
        }
        try lm.export(to: URL(fileURLWithPath: output), format: format, type: dtype, mergeAdapters: true)
        print("wrote \(output) (\(format.rawValue), \(dtype.rawValue)\(adapter == nil ? "" : ", adapter merged"))")
    }

    /// The model with the adapter loaded: a causal LM, or for a reward model's adapter (its trained
    /// `score` head in `modules_to_save`) the base as a one-label sequence classifier, whose config's
    /// `pad_token_id` is the tokenizer's pad (else EOS) token, as reward training set it.
    private func exportedModel() throws -> PretrainedModel {
        guard let adapter, try PretrainedModel.adapterTrainsClassifierHead(URL(fileURLWithPath: adapter)) else {
            return try loadModel(model, adapter: adapter)
        }
        let base = try ModelLocation.resolve(model)
        let classifier = try SequenceClassifier.rewardModel(
            directory: base, padTokenId: SequenceClassifier.padTokenId(tokenizer: Tokenizer(directory: base.path)), seed: 0,
            ggufWeights: .float)
        try classifier.loadAdapter(from: URL(fileURLWithPath: adapter))
        return classifier
    }
}

extension ExportFormat: ExpressibleByArgument {}
extension ExportType: ExpressibleByArgument {}
