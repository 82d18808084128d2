"""modules_to_save fixtures: LoRA adapters saved by PEFT with whole modules trained beside them, on the LoRA
fixtures' tiny Llama (untied), and what PEFT computes with them.

    python3 Scripts/reference/make_lora_fixtures.py                  # the base model (Tests/FledgeLMTests/Fixtures/lora/base)
    python3 Scripts/reference/make_modules_to_save_fixtures.py [OUT_DIR]                  # stage 1
    FLEDGE_WRITE_MODULES_TO_SAVE_FIXTURE=1 swift test --filter ModulesToSaveReferenceTests  # Fledge writes fledge_adapter/
    python3 Scripts/reference/make_modules_to_save_fixtures.py --fledge [OUT_DIR]         # stage 2

Writes, under OUT_DIR (default Tests/FledgeLMTests/Fixtures/modules_to_save):

- `peft_head/`: LoRA r=4, lora_alpha=8 on q_proj and v_proj with `modules_to_save=["lm_head"]`, saved by PEFT's
  `save_pretrained`; lora_B drawn at random and the saved copy of lm_head's weight perturbed by 0.05 * N(0, 1), so
  that both matter;
- `peft_embed_head/`: the same with `modules_to_save=["embed_tokens", "lm_head"]`, both saved copies perturbed;
- `expected.json`: for each adapter, per-token log-probs of the LoRA fixtures' sequences with it, with its adapters
  disabled (`disable_adapter()`, which switches each ModulesToSaveWrapper back to the original module), the weighted
  loss sum(weight * log-prob), the saved keys of adapter_model.safetensors and PEFT's `modules_to_save` in
  adapter_config.json;
- `<adapter>_grads.safetensors`: that loss's gradient with respect to every lora_A, lora_B and saved module weight,
  under Fledge's parameter names (PEFT's saved keys without `base_model.model.`: `lm_head.weight`,
  `model.embed_tokens.weight`).

Computed in float64 from the float32 values in the files. Stage 2 loads `fledge_adapter/` (LoRA on q_proj and v_proj
with embed_tokens and lm_head in modules_to_save, written by the Swift test) into PEFT on the base, checks that every
LoRA and saved module weight PEFT uses equals the file's, and writes PEFT's log-probs to `fledge_expected.json`.
"""
import json
import os
import shutil
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from make_lora_fixtures import log_probs, weighted_loss

LORA = "Tests/FledgeLMTests/Fixtures/lora"
ADAPTERS = {"peft_head": ["lm_head"], "peft_embed_head": ["embed_tokens", "lm_head"]}


def load_base():
    return AutoModelForCausalLM.from_pretrained(os.path.join(LORA, "base"), dtype=torch.float32)


def fledge_name(peft_name):
    """base_model.model.lm_head.modules_to_save.default.weight -> lm_head.weight;
    base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight -> model.layers.0.self_attn.q_proj.lora_A.weight"""
    return peft_name.removeprefix("base_model.model.").replace(".modules_to_save.default", "").replace(".default", "")


def save_adapter(out_dir, name, modules, generator):
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], modules_to_save=modules,
                        task_type="CAUSAL_LM")
    model = get_peft_model(load_base(), config)
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if "lora_B" in parameter_name:
                parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
            elif "modules_to_save.default" in parameter_name:
                parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    os.remove(os.path.join(path, "README.md"))  # PEFT's model-card template


def with_adapter(out_dir, name):
    return PeftModel.from_pretrained(load_base().double(), os.path.join(out_dir, name)).double().eval()


def stage_two(out_dir):
    peft = with_adapter(out_dir, "fledge_adapter")
    used = {fledge_name(n): p for n, p in peft.named_parameters() if "lora_" in n or "modules_to_save.default" in n}
    with safe_open(os.path.join(out_dir, "fledge_adapter", "adapter_model.safetensors"), "pt") as f:
        stored = {k.removeprefix("base_model.model."): f.get_tensor(k) for k in f.keys()}
    assert sorted(used) == sorted(stored), (sorted(used), sorted(stored))
    for name, tensor in stored.items():
        assert torch.equal(used[name].float(), tensor), name
    with open(os.path.join(LORA, "expected.json")) as f:
        sequences = json.load(f)["sequences"]
    with torch.no_grad():
        logprobs = [log_probs(peft, ids).tolist() for ids in sequences]
    with open(os.path.join(out_dir, "fledge_expected.json"), "w") as f:
        json.dump({"logprobs": logprobs}, f)
    print(f"PEFT loaded fledge_adapter: {len(stored)} tensors, all used as stored")


def main():
    if sys.argv[1:2] == ["--fledge"]:
        stage_two(sys.argv[2] if len(sys.argv) > 2 else "Tests/FledgeLMTests/Fixtures/modules_to_save")
        return
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/modules_to_save"
    os.makedirs(out_dir, exist_ok=True)
    generator = torch.Generator().manual_seed(26)
    with open(os.path.join(LORA, "expected.json")) as f:
        lora_expected = json.load(f)
    sequences, weights = lora_expected["sequences"], lora_expected["loss_weights"]
    expected = {}
    for name, modules in ADAPTERS.items():
        save_adapter(out_dir, name, modules, generator)
        path = os.path.join(out_dir, name)
        with safe_open(os.path.join(path, "adapter_model.safetensors"), "pt") as f:
            keys = sorted(f.keys())
        with open(os.path.join(path, "adapter_config.json")) as f:
            saved_modules = json.load(f)["modules_to_save"]
        peft = with_adapter(out_dir, name)
        with torch.no_grad():
            logprobs = [log_probs(peft, ids).tolist() for ids in sequences]
            with peft.disable_adapter():
                disabled = [log_probs(peft, ids).tolist() for ids in sequences]
        trained = {n: p for n, p in peft.named_parameters() if "lora_" in n or "modules_to_save.default" in n}
        for p in trained.values():
            p.requires_grad_(True)
        loss = weighted_loss(peft, sequences, weights)
        loss.backward()
        save_file({fledge_name(n): p.grad.float().contiguous() for n, p in trained.items()},
                  os.path.join(out_dir, f"{name}_grads.safetensors"))
        expected[name] = {"logprobs": logprobs, "disabled_logprobs": disabled, "loss": loss.item(), "keys": keys,
                          "modules_to_save": saved_modules}
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f)
    for root, _, files in sorted(os.walk(out_dir)):
        print(f"{os.path.relpath(root, out_dir)}: {sum(os.path.getsize(os.path.join(root, n)) for n in files) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
