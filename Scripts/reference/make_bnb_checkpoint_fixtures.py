#!/usr/bin/env python3
"""Checkpoints that transformers saves for a model quantized by bitsandbytes, and what they compute: the fixtures
of Fledge's reading of bitsandbytes 4-bit checkpoints.

    /tmp/refvenv/bin/python Scripts/reference/make_bnb_checkpoint_fixtures.py

(Run from the repository root with torch, transformers, safetensors and bitsandbytes; on the CPU, after
make_quant_model_fixtures.py, whose `quantized/base` model this quantizes.)

Writes into Tests/FledgeLMTests/Fixtures/quantized/:

- `bnb_nf4_nested/` and `bnb_fp4/`: `quantized/base` loaded with
  `BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=..., bnb_4bit_use_double_quant=...,
  bnb_4bit_compute_dtype=float32)` on the CPU and saved with `save_pretrained` (NF4 with nested absmax, FP4 without):
  each linear weight as packed uint8 with its `absmax`, `quant_map`, `nested_absmax`, `nested_quant_map` and
  `quant_state.bitsandbytes__<type>` tensors, and `quantization_config` in config.json;
- `bnb_expected.json`: per directory, the per-token log-probs (float64) of `sequences` (from expected.json) of the
  base model with every linear weight replaced by bitsandbytes' `dequantize_4bit` of the saved tensors in float32 (the
  dtype its quant_state names) and 8 greedy tokens after each of `prompts`. (transformers' own 4-bit model, reloaded
  on the CPU, repacks its weights and dequantizes to bfloat16, so its log-probs differ; the script prints by how much.)
- `bnb_dequantized.safetensors`: those dequantized weights, under `<directory>/<weight name>`.
"""

import json
import os
import shutil

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, BitsAndBytesConfig

import bitsandbytes
import bitsandbytes.functional as bnb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "quantized")
VARIANTS = {"bnb_nf4_nested": ("nf4", True), "bnb_fp4": ("fp4", False)}


def token_logprobs(model, ids, dtype):
    logits = model(torch.tensor([ids])).logits[0].to(dtype)
    return torch.log_softmax(logits[:-1], dim=-1).gather(1, torch.tensor(ids[1:]).unsqueeze(1)).squeeze(1).tolist()


def main():
    base = os.path.join(OUT, "base")
    with open(os.path.join(OUT, "expected.json")) as f:
        fixture = json.load(f)
    expected = {"sequences": fixture["sequences"], "prompts": fixture["prompts"], "variants": {}}
    dequantized_weights = {}
    for directory, (quant_type, nested) in VARIANTS.items():
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=quant_type, bnb_4bit_use_double_quant=nested,
                                    bnb_4bit_compute_dtype=torch.float32)
        quantized = AutoModelForCausalLM.from_pretrained(base, quantization_config=config, dtype=torch.float32,
                                                         device_map="cpu").eval()
        path = os.path.join(OUT, directory)
        shutil.rmtree(path, ignore_errors=True)
        quantized.save_pretrained(path)
        # Reload what was saved, so that the reference is the checkpoint's state.
        saved = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, device_map="cpu").eval()
        with torch.no_grad():
            transformers_logprobs = [token_logprobs(saved, s, torch.float64) for s in fixture["sequences"]]
            plain = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
            stored = safe_open(os.path.join(path, "model.safetensors"), "pt")
            for name, module in plain.named_modules():
                weight = f"{name}.weight"
                state_name = f"{weight}.quant_state.bitsandbytes__{quant_type}"
                if state_name not in stored.keys():
                    continue
                # The checkpoint's tensors decoded by bitsandbytes itself, in float32 (the dtype its quant_state
                # names). (A model reloaded by transformers on the CPU repacks its weights and dequantizes to
                # bfloat16, so its own forward is not this one; the script prints by how much it differs.)
                components = {key[len(weight) + 1:]: stored.get_tensor(key) for key in stored.keys()
                              if key.startswith(weight + ".")}
                state = bnb.QuantState.from_dict(components, device=torch.device("cpu"))
                state.dtype = torch.float32
                dense = bnb.dequantize_4bit(stored.get_tensor(weight), state)
                assert dense.dtype == torch.float32 and tuple(dense.shape) == tuple(module.weight.shape)
                error = (dense - module.weight).abs().max().item()
                assert error < 0.2 * module.weight.abs().max().item(), f"{weight}: dequantized {error} from the float weight"
                module.weight.copy_(dense)
                dequantized_weights[f"{directory}/{weight}"] = dense.contiguous()
            greedy = [plain.generate(torch.tensor([p]), max_new_tokens=8, do_sample=False, eos_token_id=None,
                                     pad_token_id=0)[0, len(p):].tolist() for p in fixture["prompts"]]
            reference = plain.double()
            logprobs = [token_logprobs(reference, s, torch.float64) for s in fixture["sequences"]]
        difference = max(abs(a - b) for x, y in zip(logprobs, transformers_logprobs) for a, b in zip(x, y))
        print(f"{directory}: transformers' 4-bit model vs the dequantized model in float64: {difference:.2e}")
        expected["variants"][directory] = {"logprobs": logprobs, "greedy_new_ids": greedy}
    save_file(dequantized_weights, os.path.join(OUT, "bnb_dequantized.safetensors"))
    import transformers
    expected["versions"] = {"torch": torch.__version__, "transformers": transformers.__version__,
                            "bitsandbytes": bitsandbytes.__version__}
    with open(os.path.join(OUT, "bnb_expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
