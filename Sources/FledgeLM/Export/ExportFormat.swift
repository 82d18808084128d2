/// The file layout of an exported model (`fledge export --format`).
public enum ExportFormat: String, CaseIterable, Sendable {
    /// A Hugging Face model directory: config.json, model.safetensors, tokenizer and generation config.
    case safetensors
    /// One GGUF version 3 file with the tokenizer and chat template, as llama.cpp loads it.
    case gguf
}
