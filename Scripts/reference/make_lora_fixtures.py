"""LoRA fixtures: a tiny random Llama, adapters saved by PEFT, and what PEFT computes with them.

    python3 Scripts/reference/make_lora_fixtures.py [OUT_DIR]            # stage 1
    FLEDGE_WRITE_LORA_FIXTURE=1 swift test --filter LoRAFileFormatTests     # Fledge writes fledge_adapter/
    python3 Scripts/reference/make_lora_fixtures.py --fledge [OUT_DIR]    # stage 2

Stage 1 writes, under OUT_DIR (default Tests/FledgeLMTests/Fixtures/lora):

- `base/`: a Llama with hidden 48, intermediate 80, 3 heads of 20 (1 KV head), vocabulary 97, 2 layers, untied,
  float32 (as `save_pretrained` writes it);
- `peft_adapter/`: LoRA r=4, lora_alpha=8 on q_proj, v_proj, o_proj, gate_proj, down_proj, saved by PEFT's
  `save_pretrained`, with lora_B drawn at random (PEFT initialises it to zero) so that the adapter matters;
- `peft_rslora/`: `target_modules="all-linear"`, use_rslora, r=4, lora_alpha=6, lora_dropout=0.1 (PEFT saves the
  expanded module names);
- `expected.json`: token sequences, the first scored position of each and one weight per scored token; per-token
  log-probs (t = 1 ... n-1) of the base model, with peft_adapter and with peft_rslora;
- `peft_grads.safetensors`: the gradient of loss = sum(weight * log-prob) over the scored tokens with respect to every
  lora_A and lora_B of peft_adapter, under Fledge's parameter names (PEFT's keys without `base_model.model.`);
- `full_grads.safetensors`: the same loss's gradient with respect to a few base weights when the base model (no
  adapter) is fully trained.

Everything is computed in float64 from the float32 values stored in the files, so the reference carries no float32
rounding of its own. Stage 2 loads `fledge_adapter/` (written by the Swift test LoRAFileFormatTests under
FLEDGE_WRITE_LORA_FIXTURE=1) into PEFT on `base/`, checks that every LoRA weight PEFT expects came from the file, and
writes its log-probs to `fledge_expected.json`. If the test also wrote a merged model (Fledge's `saveModel`) to
/tmp/fledge_lora_merged, stage 2 loads it with transformers and records the largest difference between its log-probs
and PEFT's (`merged_max_abs_diff`).
"""
import json
import os
import shutil
import sys

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig

from make_model_fixtures import randomize

CONFIG = dict(vocab_size=97, hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=3,
              num_key_value_heads=1, head_dim=20, max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=10000.0,
              bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False)
LENGTHS = [9, 14, 6]
SCORED_FROM = [3, 1, 2]
FULL_GRAD_NAMES = ["model.layers.0.self_attn.k_proj.weight", "model.layers.1.mlp.up_proj.weight",
                   "model.layers.1.self_attn.o_proj.weight", "model.layers.0.input_layernorm.weight",
                   "model.norm.weight"]
MERGED = "/tmp/fledge_lora_merged"


def log_probs(model, ids):
    """log p(ids[t] | ids[:t]) for t = 1 ... n-1, as float64."""
    logits = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, -1)
    return logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]


def weighted_loss(model, sequences, weights):
    """sum over sequences of sum_{t >= scored_from} weight * log p(token t)."""
    total, offset = 0, 0
    for ids, start in zip(sequences, SCORED_FROM):
        scored = log_probs(model, ids)[start - 1:]
        total = total + (scored * torch.tensor(weights[offset:offset + len(scored)], dtype=torch.float64)).sum()
        offset += len(scored)
    return total


def load_base(out_dir):
    return AutoModelForCausalLM.from_pretrained(os.path.join(out_dir, "base"), dtype=torch.float32).double().eval()


def with_adapter(out_dir, name):
    return PeftModel.from_pretrained(load_base(out_dir), os.path.join(out_dir, name)).double().eval()


def fledge_name(peft_name):
    """base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight -> model.layers.0....lora_A.weight"""
    return peft_name.removeprefix("base_model.model.").replace(".default.", ".")


def save_peft_adapter(out_dir, name, lora_config, generator):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(out_dir, "base"), dtype=torch.float32)
    model = get_peft_model(model, lora_config)
    with torch.no_grad():
        for parameter_name, parameter in model.named_parameters():
            if "lora_B" in parameter_name:
                parameter.copy_(0.2 * torch.randn(parameter.shape, generator=generator))
    path = os.path.join(out_dir, name)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    os.remove(os.path.join(path, "README.md"))  # PEFT's model-card template


def stage_one(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(6)
    model = AutoModelForCausalLM.from_config(LlamaConfig(**CONFIG))
    randomize(model, generator)
    base = os.path.join(out_dir, "base")
    shutil.rmtree(base, ignore_errors=True)
    model.save_pretrained(base)
    GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=0).save_pretrained(base)

    save_peft_adapter(out_dir, "peft_adapter", LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "o_proj", "gate_proj", "down_proj"],
        task_type="CAUSAL_LM"), generator)
    save_peft_adapter(out_dir, "peft_rslora", LoraConfig(
        r=4, lora_alpha=6, lora_dropout=0.1, use_rslora=True, target_modules="all-linear", task_type="CAUSAL_LM"),
        generator)

    sequences = [torch.randint(3, CONFIG["vocab_size"], (n,), generator=generator).tolist() for n in LENGTHS]
    scored = sum(n - start for n, start in zip(LENGTHS, SCORED_FROM))
    weights = torch.randn(scored, generator=generator).tolist()
    expected = {"sequences": sequences, "scored_from": SCORED_FROM, "loss_weights": weights}
    with torch.no_grad():
        for key, model in [("base_logprobs", load_base(out_dir)),
                           ("peft_logprobs", with_adapter(out_dir, "peft_adapter")),
                           ("rslora_logprobs", with_adapter(out_dir, "peft_rslora"))]:
            expected[key] = [log_probs(model, ids).tolist() for ids in sequences]

    peft = with_adapter(out_dir, "peft_adapter")
    lora = {name: p for name, p in peft.named_parameters() if "lora_" in name}
    for p in lora.values():
        p.requires_grad_(True)
    loss = weighted_loss(peft, sequences, weights)
    loss.backward()
    expected["peft_loss"] = loss.item()
    save_file({fledge_name(name): p.grad.float().contiguous() for name, p in lora.items()},
              os.path.join(out_dir, "peft_grads.safetensors"))

    full = load_base(out_dir)
    for p in full.parameters():
        p.requires_grad_(True)
    loss = weighted_loss(full, sequences, weights)
    loss.backward()
    expected["full_loss"] = loss.item()
    parameters = dict(full.named_parameters())
    save_file({name: parameters[name].grad.float().contiguous() for name in FULL_GRAD_NAMES},
              os.path.join(out_dir, "full_grads.safetensors"))

    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump(expected, f)
    report_sizes(out_dir)


def stage_two(out_dir):
    path = os.path.join(out_dir, "fledge_adapter")
    peft = with_adapter(out_dir, "fledge_adapter")
    with safe_open(os.path.join(path, "adapter_model.safetensors"), "pt") as f:
        stored = {key: f.get_tensor(key) for key in f.keys()}
    lora = {name: p for name, p in peft.named_parameters() if "lora_" in name}
    for name, p in lora.items():
        key = "base_model.model." + fledge_name(name)
        assert key in stored, f"PEFT expects {key}, which the Fledge adapter lacks"
        assert torch.equal(p.detach(), stored[key].double()), f"{key}: PEFT did not load the stored values"
    assert len(lora) == len(stored), f"the Fledge adapter has {len(stored)} tensors, PEFT uses {len(lora)}"
    with open(os.path.join(out_dir, "expected.json")) as f:
        sequences = json.load(f)["sequences"]
    with torch.no_grad():
        logprobs = [log_probs(peft, ids) for ids in sequences]
    result = {"logprobs": [row.tolist() for row in logprobs]}
    if os.path.isdir(MERGED):
        merged = AutoModelForCausalLM.from_pretrained(MERGED, dtype=torch.float32).double().eval()
        with torch.no_grad():
            worst = max((log_probs(merged, ids) - row).abs().max().item() for ids, row in zip(sequences, logprobs))
        result["merged_max_abs_diff"] = worst
        print(f"transformers on Fledge's merged model vs PEFT with Fledge's adapter: max abs diff {worst:.3g}")
    with open(os.path.join(out_dir, "fledge_expected.json"), "w") as f:
        json.dump(result, f)
    print(f"PEFT loaded all {len(lora)} LoRA tensors of {path}")


def report_sizes(out_dir):
    for root, _, files in sorted(os.walk(out_dir)):
        size = sum(os.path.getsize(os.path.join(root, name)) for name in files)
        print(f"{os.path.relpath(root, out_dir)}: {size / 1024:.0f} KiB")


def main():
    arguments = [a for a in sys.argv[1:] if a != "--fledge"]
    out_dir = arguments[0] if arguments else "Tests/FledgeLMTests/Fixtures/lora"
    if "--fledge" in sys.argv:
        stage_two(out_dir)
    else:
        stage_one(out_dir)


if __name__ == "__main__":
    main()
