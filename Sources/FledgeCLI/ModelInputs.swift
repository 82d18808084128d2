import ArgumentParser
import Foundation
import FledgeHub
import FledgeLM

/// Parses `--ids 1,2,3` (commas or spaces).
func parseIds(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(whereSeparator: { $0 == "," || $0 == " " })
    let ids = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard ids.count == parts.count, !ids.isEmpty, ids.allSatisfy({ $0 >= 0 }) else {
        throw ValidationError("\(option) expects non-negative token ids separated by commas, e.g. \(option) 1,2,3; got '\(text)'")
    }
    return ids
}

/// Checks that every id is inside the model's vocabulary.
func checkVocabulary(_ ids: [Int], size: Int, source: String) throws {
    if let bad = ids.first(where: { $0 >= size }) {
        throw ValidationError("\(source): token id \(bad) is outside the model's vocabulary of \(size)")
    }
}

/// One line of compact JSON for `value`, keys sorted unless `sortingKeys` is false (then in the order given).
func jsonLine(_ value: JSONValue, sortingKeys: Bool = true) -> String {
    JSONWriter(separators: (item: ",", key: ":"), sortKeys: sortingKeys).string(value)
}

/// A float array as JSON, each value in its shortest round-trip form.
func jsonFloats(_ values: [Float]) -> String {
    "[" + values.map { $0.isFinite ? "\($0)" : ($0 > 0 ? "Infinity" : ($0 < 0 ? "-Infinity" : "NaN")) }.joined(separator: ",") + "]"
}

/// The causal LM of `model` — a local directory or GGUF file, or a Hub id (`org/name[@revision]`,
/// from the Hugging Face cache or downloaded into it) — (a sequence classifier's directory is an error
/// naming its `architectures`) with its decoder's linear layers quantized to `quantization` when one
/// is given, and the PEFT adapter directory `adapter` (from `fledge grpo`/`sft`, or PEFT itself)
/// loaded on it, when one is given. A GGUF file's Q8_0, Q4_0 and Q4_K linear weights stay in their
/// blocks with `ggufWeights` `.keep` and no `quantization`; a `quantization` stores every decoder
/// linear layer in its format, each quantized from the file's float32 values as it is read.
func loadModel(_ model: String, adapter: String?, quantization: QuantizationFormat? = nil,
               ggufWeights: GGUFWeights = .keep) throws -> LanguageModel {
    let model = try LanguageModel(directory: ModelLocation.resolve(model), ggufWeights: quantization == nil ? ggufWeights : .float,
                                  quantization: quantization.map { BaseQuantization($0) })
    if let adapter { try model.loadAdapter(from: URL(fileURLWithPath: adapter)) }
    return model
}

/// `--quantization nf4|fp4|int8|q8_0|q4_0|q4_k|bf16`.
extension QuantizationFormat: ExpressibleByArgument {}

/// The help of every `--quantization` option.
let quantizationHelp = ArgumentHelp(
    "Store the decoder's linear layers block-quantized (embeddings and the output head stay float; see docs/quantization.md).")

/// `--gguf-weights keep|float`.
extension GGUFWeights: ExpressibleByArgument {}

/// The help of every `--gguf-weights` option.
let ggufWeightsHelp = ArgumentHelp(
    "For a .gguf model: keep its Q8_0/Q4_0/Q4_K linear weights in their blocks (keep, the default; "
        + "about 1.06/0.56/0.56 bytes per weight) or read every tensor as float32 (float, 4 bytes per weight); "
        + "ignored with --quantization, which quantizes the float32 values (see docs/gguf.md).")
