"""DoRA fixtures: adapters saved by PEFT with use_dora=True on the LoRA fixtures' tiny Llama, and what PEFT computes.

    python3 Scripts/reference/make_lora_fixtures.py        # the base model (Tests/FledgeLMTests/Fixtures/lora/base)
    python3 Scripts/reference/make_dora_fixtures.py [OUT_DIR]

Writes, under OUT_DIR (default Tests/FledgeLMTests/Fixtures/dora):

- `peft_dora/`: DoRA r=4, lora_alpha=8 on q_proj, v_proj, o_proj, gate_proj, down_proj, saved by PEFT's
  `save_pretrained`; lora_B drawn at random (PEFT initialises it to zero) and every magnitude scaled by a random
  factor in [0.8, 1.2] (PEFT initialises it to the weight's row norms), so that both matter;
- `peft_dora_rslora/`: `target_modules="all-linear"`, use_rslora, r=4, lora_alpha=6, randomised the same way;
- `expected.json`: per-token log-probs of the LoRA fixtures' sequences with each adapter; the weighted loss
  sum(weight * log-prob) of `peft_dora`; the log-probs of `peft_dora` merged by PEFT's `merge_and_unload`;
  `initial_magnitudes`: the magnitudes a fresh DoRA adapter on q_proj of layer 0 starts from;
- `grads.safetensors`: that loss's gradient with respect to every lora_A, lora_B and lora_magnitude_vector of
  `peft_dora`, under Fledge's parameter names (PEFT's keys without `base_model.model.` and `.default`).

Computed in float64 from the float32 values in the files. DoRA with lora_dropout > 0 is not recorded: its masks are
random draws, which no two libraries share.
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
    """base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector.default.weight
    -> model.layers.0.self_attn.q_proj.lora_magnitude_vector"""
    name = peft_name.removeprefix("base_model.model.").replace(".default", "")
    return name.removesuffix(".weight") if "lora_magnitude_vector" in name else name


def save_dora_adapter(out_dir, name, config, generator):
    model = get_peft_model(load_base(), config)
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if "lora_B" in parameter_name:
                parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
            elif "lora_magnitude_vector" in parameter_name:
                parameter.mul_(0.8 + 0.4 * torch.rand(parameter.shape, generator=generator))
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    os.remove(os.path.join(path, "README.md"))  # PEFT's model-card template


def with_adapter(out_dir, name):
    return PeftModel.from_pretrained(load_base().double(), os.path.join(out_dir, name)).double().eval()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/dora"
    os.makedirs(out_dir, exist_ok=True)
    generator = torch.Generator().manual_seed(21)
    targets = ["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"]
    save_dora_adapter(out_dir, "peft_dora", LoraConfig(
        r=4, lora_alpha=8, use_dora=True, target_modules=targets, task_type="CAUSAL_LM"), generator)
    save_dora_adapter(out_dir, "peft_dora_rslora", LoraConfig(
        r=4, lora_alpha=6, use_dora=True, use_rslora=True, target_modules="all-linear", task_type="CAUSAL_LM"),
        generator)

    with open(os.path.join(LORA, "expected.json")) as f:
        lora_expected = json.load(f)
    sequences, weights = lora_expected["sequences"], lora_expected["loss_weights"]
    expected = {}
    with torch.no_grad():
        for key, name in [("dora_logprobs", "peft_dora"), ("dora_rslora_logprobs", "peft_dora_rslora")]:
            expected[key] = [log_probs(with_adapter(out_dir, name), ids).tolist() for ids in sequences]
        merged = with_adapter(out_dir, "peft_dora").merge_and_unload()
        expected["merged_logprobs"] = [log_probs(merged, ids).tolist() for ids in sequences]
        fresh = get_peft_model(load_base(), LoraConfig(r=4, lora_alpha=8, use_dora=True, target_modules=["q_proj"]))
        magnitude = fresh.base_model.model.model.layers[0].self_attn.q_proj.lora_magnitude_vector["default"].weight
        expected["initial_magnitudes"] = magnitude.tolist()

    peft = with_adapter(out_dir, "peft_dora")
    trained = {name: p for name, p in peft.named_parameters() if "lora_" in name}
    for p in trained.values():
        p.requires_grad_(True)
    peft.train()  # DoRA's weight-norm cache is off in training, as Fledge never caches across steps
    loss = weighted_loss(peft, sequences, weights)
    loss.backward()
    expected["dora_loss"] = loss.item()
    save_file({fledge_name(name): p.grad.float().contiguous() for name, p in trained.items()},
              os.path.join(out_dir, "grads.safetensors"))
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f)
    for root, _, files in sorted(os.walk(out_dir)):
        print(f"{os.path.relpath(root, out_dir)}: {sum(os.path.getsize(os.path.join(root, n)) for n in files) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
