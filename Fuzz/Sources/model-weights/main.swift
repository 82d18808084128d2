import Foundation
import FledgeLM
import FuzzSupport

/// A model directory's `model.safetensors` (float tensors, GGUF-free, or a bitsandbytes 4-bit
/// checkpoint with its quant_state tensors) beside a fixed config.json of a one-layer Llama (hidden
/// 64, vocabulary 96): the checkpoint is checked against the architecture and loaded — 4-bit
/// weights into NF4/FP4 blocks, and once more with every linear weight quantized as it is read —
/// then scored, so that whatever loading lets through is used.
func fuzzModelWeights(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    ScratchDirectory.write(Array(config.utf8), to: "config.json")
    ScratchDirectory.write(fuzzInput(data, size), to: "model.safetensors")
    for quantization in [nil, BaseQuantization(.nf4, nestedAbsmax: true)] {
        guard let model = try? LanguageModel(directory: ScratchDirectory.url, quantization: quantization) else { return 0 }
        precondition(model.tokenLogProbs([[1, 2, 3]]).map(\.count) == [2])
    }
    return 0
}

private let config = """
    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
     "num_attention_heads": 2, "head_dim": 32, "num_key_value_heads": 1, "num_hidden_layers": 1, "vocab_size": 96,
     "tie_word_embeddings": true, "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "hidden_act": "silu"}
    """

runFuzzer(fuzzModelWeights)
