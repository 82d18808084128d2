"""LoRA on parameters (PEFT's `target_parameters`, TRL's `lora_target_parameters`): adapters saved by PEFT on the
LoRA fixtures' tiny Llama, and what PEFT computes with them.

    python3 Scripts/reference/make_lora_fixtures.py                    # the base model (Fixtures/lora/base)
    python3 Scripts/reference/make_target_parameters_fixtures.py [OUT_DIR]

PEFT wraps each targeted 2-D parameter in a `lora.ParamWrapper`, which runs the wrapped module with the weight
W + scaling * B @ A in place of W (A `[r, in]`, B `[out, r]`; no dropout, which it refuses). Writes, under OUT_DIR
(default Tests/FledgeLMTests/Fixtures/target_parameters):

- `peft_mixed/`: r=4, lora_alpha=8, lora_dropout=0, `target_modules=None` (PEFT then adds Llama's default modules,
  q_proj and v_proj) and `target_parameters=["mlp.down_proj.weight", "self_attn.o_proj.weight"]`;
- `peft_parameters_only/`: `target_modules=[]`, `target_parameters=["mlp.up_proj.weight"]`, use_rslora, r=4,
  lora_alpha=6;
  each saved by PEFT's `save_pretrained`, lora_B drawn at random (PEFT initialises it to zero) so that it matters;
- `expected.json`: per-token log-probs of the LoRA fixtures' sequences with each adapter, the weighted loss
  sum(weight * log-prob) of `peft_mixed`, and the log-probs of `peft_mixed` merged by PEFT's `merge_and_unload`;
- `grads.safetensors`: that loss's gradient with respect to every lora_A and lora_B of `peft_mixed`, under Fledge's
  parameter names (PEFT's keys without `base_model.model.` and `.default`).

Computed in float64 from the float32 values in the files.
"""
import json
import os
import shutil
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from make_lora_fixtures import log_probs, weighted_loss

LORA = "Tests/FledgeLMTests/Fixtures/lora"


def load_base():
    return AutoModelForCausalLM.from_pretrained(os.path.join(LORA, "base"), dtype=torch.float32)


def fledge_name(peft_name):
    """base_model.model.model.layers.0.mlp.down_proj.lora_A.default.weight -> model.layers.0.mlp.down_proj.lora_A.weight"""
    return peft_name.removeprefix("base_model.model.").replace(".default", "")


def save_adapter(out_dir, name, config, generator):
    model = get_peft_model(load_base(), config)
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if "lora_B" in parameter_name:
                parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    os.remove(os.path.join(path, "README.md"))  # PEFT's model-card template


def with_adapter(out_dir, name):
    return PeftModel.from_pretrained(load_base().double(), os.path.join(out_dir, name)).double().eval()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/target_parameters"
    os.makedirs(out_dir, exist_ok=True)
    generator = torch.Generator().manual_seed(26)
    save_adapter(out_dir, "peft_mixed", LoraConfig(
        r=4, lora_alpha=8, lora_dropout=0.0, target_modules=None,
        target_parameters=["mlp.down_proj.weight", "self_attn.o_proj.weight"], task_type="CAUSAL_LM"), generator)
    save_adapter(out_dir, "peft_parameters_only", LoraConfig(
        r=4, lora_alpha=6, lora_dropout=0.0, use_rslora=True, target_modules=[],
        target_parameters=["mlp.up_proj.weight"], task_type="CAUSAL_LM"), generator)

    with open(os.path.join(LORA, "expected.json")) as f:
        lora_expected = json.load(f)
    sequences, weights = lora_expected["sequences"], lora_expected["loss_weights"]
    expected = {}
    with torch.no_grad():
        for key, name in [("mixed_logprobs", "peft_mixed"), ("parameters_only_logprobs", "peft_parameters_only")]:
            expected[key] = [log_probs(with_adapter(out_dir, name), ids).tolist() for ids in sequences]
        merged = with_adapter(out_dir, "peft_mixed").merge_and_unload()
        expected["merged_logprobs"] = [log_probs(merged, ids).tolist() for ids in sequences]

    peft = with_adapter(out_dir, "peft_mixed")
    trained = {name: p for name, p in peft.named_parameters() if "lora_" in name}
    for p in trained.values():
        p.requires_grad_(True)
    loss = weighted_loss(peft, sequences, weights)
    loss.backward()
    expected["mixed_loss"] = loss.item()
    save_file({fledge_name(name): p.grad.float().contiguous() for name, p in trained.items()},
              os.path.join(out_dir, "grads.safetensors"))
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f)
    for root, _, files in sorted(os.walk(out_dir)):
        print(f"{os.path.relpath(root, out_dir)}: {sum(os.path.getsize(os.path.join(root, n)) for n in files) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
