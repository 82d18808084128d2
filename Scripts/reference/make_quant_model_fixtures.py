#!/usr/bin/env python3
"""A tiny Llama and what transformers and PEFT compute with its linear layers quantized and dequantized by the
reference libraries: the parity fixtures of Fledge's quantized base.

    /tmp/refvenv/bin/python Scripts/reference/make_quant_model_fixtures.py

(Run from the repository root with torch, transformers, peft, safetensors, numpy, gguf and bitsandbytes.)

Writes Tests/FledgeLMTests/Fixtures/quantized/:

- `base/`: a one-layer LlamaForCausalLM (hidden 64, intermediate 128, 2 heads of 32, 1 KV head, vocabulary 96,
  tied embeddings) with random weights rounded to float16 and saved in float16 (so the file is small and Fledge and
  transformers start from the same float32 values);
- `peft_adapter/`: LoRA r=4, lora_alpha=8 on every linear layer, A and B drawn at random, saved by PEFT;
- `expected.json`, per format (q8_0, q4_0, nf4, fp4, int8): with every decoder linear weight W replaced by
  dequantize(quantize(W)) — gguf-py for Q8_0 and Q4_0, bitsandbytes' quantize_4bit / dequantize_4bit (blocksize 64,
  CPU) for NF4 and FP4, and Fledge's int8 blocks (64 values, scale max|x|/127 in float32, levels rounded half away
  from zero) computed here in numpy — the per-token log-probs of `sequences` (t = 1 ... n-1, float64),
  `greedy_new_ids` (8 greedy tokens after each of `prompts`, float32, no EOS), and with the adapter `lora_loss`
  (the sum of the log-probs of sequences[0], float64);
- `lora_grads.safetensors`: the gradient of lora_loss with respect to every lora_A and lora_B, under
  `<format>/<Fledge's parameter name>` (float64 computation stored as float32).

Q4_K has no quantizer in gguf-py, so it is not here (its dequantization is checked bit for bit in the FledgeTensor
tests, and its products like every format's).
"""

import json
import os
import shutil

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig
from peft import LoraConfig, PeftModel, get_peft_model

import bitsandbytes.functional as bnb
from gguf import GGMLQuantizationType, quants

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "quantized")
CONFIG = dict(hidden_size=64, intermediate_size=128, num_attention_heads=2, head_dim=32, num_key_value_heads=1,
              num_hidden_layers=1, vocab_size=96, tie_word_embeddings=True, max_position_embeddings=64,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)
FORMATS = ["q8_0", "q4_0", "nf4", "fp4", "int8"]
LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def int8_blocks(weight):
    """Fledge's int8 blocks, dequantized: blocks of 64, d = max|x| / 127 (float32), q = round-half-away(x / d)."""
    blocks = weight.reshape(-1, 64).astype(np.float32)
    d = (np.abs(blocks).max(axis=1, keepdims=True) / np.float32(127)).astype(np.float32)
    with np.errstate(divide="ignore"):
        inverse = np.where(d == 0, np.float32(0), (np.float32(1) / d).astype(np.float32)).astype(np.float32)
    scaled = (blocks * inverse).astype(np.float32)
    levels = np.sign(scaled) * np.floor(np.abs(scaled) + np.float32(0.5))
    return (levels.astype(np.float32) * d).astype(np.float32).reshape(weight.shape)


def dequantized(weight, fmt):
    w = weight.detach().float()
    if fmt in ("q8_0", "q4_0"):
        qtype = GGMLQuantizationType.Q8_0 if fmt == "q8_0" else GGMLQuantizationType.Q4_0
        return torch.from_numpy(quants.dequantize(quants.quantize(w.numpy(), qtype), qtype).copy())
    if fmt in ("nf4", "fp4"):
        packed, state = bnb.quantize_4bit(w, blocksize=64, quant_type=fmt)
        return bnb.dequantize_4bit(packed, state).float()
    return torch.from_numpy(int8_blocks(w.numpy()))


def quantized_base(fmt):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(OUT, "base"), dtype=torch.float32)
    with torch.no_grad():
        for name, module in model.named_modules():
            if name.split(".")[-1] in LINEARS:
                module.weight.copy_(dequantized(module.weight, fmt))
    return model.eval()


def token_logprobs(model, ids):
    logits = model(torch.tensor([ids])).logits[0].double()
    return torch.log_softmax(logits[:-1], dim=-1).gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1)


def fledge_name(peft_name):
    return peft_name.removeprefix("base_model.model.").replace(".default.", ".")


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(18)
    model = AutoModelForCausalLM.from_config(LlamaConfig(**CONFIG))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.copy_(1 + 0.3 * torch.randn(parameter.shape, generator=generator))
            elif "embed_tokens" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
            else:
                parameter.copy_(1.2 / parameter.shape[1] ** 0.5 * torch.randn(parameter.shape, generator=generator))
    os.makedirs(OUT, exist_ok=True)
    base = os.path.join(OUT, "base")
    shutil.rmtree(base, ignore_errors=True)
    model.half().save_pretrained(base)
    GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=0).save_pretrained(base)

    adapter = get_peft_model(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                             LoraConfig(r=4, lora_alpha=8, target_modules=LINEARS, task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, parameter in adapter.named_parameters():
            if "lora_" in name:
                parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
    adapter_dir = os.path.join(OUT, "peft_adapter")
    shutil.rmtree(adapter_dir, ignore_errors=True)
    adapter.save_pretrained(adapter_dir)
    os.remove(os.path.join(adapter_dir, "README.md"))

    sequences = [torch.randint(3, CONFIG["vocab_size"], (n,), generator=generator).tolist() for n in (14, 9)]
    prompts = [torch.randint(3, CONFIG["vocab_size"], (n,), generator=generator).tolist() for n in (5, 3)]
    expected = {"sequences": sequences, "prompts": prompts, "formats": {}}
    grads = {}
    for fmt in FORMATS:
        quantized = quantized_base(fmt)
        greedy = [quantized.generate(torch.tensor([p]), max_new_tokens=8, do_sample=False, eos_token_id=None,
                                     pad_token_id=0)[0, len(p):].tolist() for p in prompts]
        with torch.no_grad():
            reference = quantized.double()
            logprobs = [token_logprobs(reference, s).tolist() for s in sequences]
        peft = PeftModel.from_pretrained(quantized.double(), adapter_dir, is_trainable=True).double()
        loss = token_logprobs(peft, sequences[0]).sum()
        loss.backward()
        for name, parameter in peft.named_parameters():
            if parameter.grad is not None:
                grads[f"{fmt}/{fledge_name(name)}"] = parameter.grad.float().contiguous()
        expected["formats"][fmt] = {"logprobs": logprobs, "greedy_new_ids": greedy, "lora_loss": loss.item()}
    save_file(grads, os.path.join(OUT, "lora_grads.safetensors"))
    import transformers, peft as peft_module
    expected["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                            "peft": peft_module.__version__}
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
