"""What PyTorch CPU autocast in bfloat16 computes with Fledge's tiny fixture models (bf16: true).

    python3 Scripts/reference/make_bf16_autocast_fixtures.py [OUT_FILE]

Writes OUT_FILE (default Tests/FledgeLMTests/Fixtures/bf16_autocast.json): for each model of
Tests/FledgeLMTests/Fixtures/models named in MODELS, its `score` sequences (from its expected.json)
and, computed as accelerate runs a model for a TRL config with `bf16: true` on the CPU (the forward
under `torch.autocast("cpu", dtype=torch.bfloat16)`, the logits handed on as float32, the loss and
the backward outside autocast):

- `logprobs_bf16`: log p(token t | tokens before t), t = 1 ... n-1, of each sequence run alone;
- `logprobs_fp32`: the same in float32, to show how far bfloat16 moves them;
- `grads_bf16`, `grads_fp32`: gradients of the mean negative log-prob over every scored token of
  every sequence (each sequence its own forward) with respect to the parameters in GRADS, every
  parameter trainable (full fine-tuning), flattened row-major and sampled every STRIDE-th element
  (from element 0) to keep the file small.

Values are written with 8 significant digits (float32 needs 9 for exactness; the comparisons'
tolerances are far above that).
"""
import json
import os
import sys

import torch
from transformers import AutoModelForCausalLM

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
MODELS_DIR = os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "models")
# A model with biases (linear rope, GQA) and one with per-head q/k norms.
MODELS = ["llama_gqa_bias_linear", "qwen3_qknorm"]
STRIDE = 7
GRADS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight", "model.norm.weight"]


def run(model, sequences, autocast):
    model.zero_grad(set_to_none=True)
    logprobs, losses, count = [], [], 0
    for ids in sequences:
        x = torch.tensor([ids])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            logits = model(input_ids=x).logits
        logits = logits.float()  # accelerate's convert_outputs_to_fp32
        lp = torch.log_softmax(logits[0, :-1], dim=-1).gather(1, x[0, 1:, None])[:, 0]
        logprobs.append(lp.detach().tolist())
        losses.append(-lp.sum())
        count += lp.numel()
    (sum(losses) / count).backward()
    params = dict(model.named_parameters())
    grads = {name: params[name].grad.flatten()[::STRIDE].tolist() for name in GRADS if name in params}
    return logprobs, grads


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "bf16_autocast.json")
    torch.manual_seed(0)
    result = {"torch": torch.__version__, "stride": STRIDE}
    for name in MODELS:
        directory = os.path.join(MODELS_DIR, name)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
        model.train()  # dropout is 0 in these configs; train() as a trainer runs it
        expected = json.load(open(os.path.join(directory, "expected.json")))
        sequences = [case["ids"] for case in expected["score"]]
        lp16, g16 = run(model, sequences, autocast=True)
        lp32, g32 = run(model, sequences, autocast=False)
        result[name] = {"sequences": sequences, "logprobs_bf16": lp16, "logprobs_fp32": lp32,
                        "grads_bf16": g16, "grads_fp32": g32}
        worst = max(abs(a - b) for s16, s32 in zip(lp16, lp32) for a, b in zip(s16, s32))
        print(f"{name}: {len(sequences)} sequences, bf16 vs fp32 log-probs max |diff| {worst:.4g}")
    text = json.dumps(result, separators=(",", ":"))
    # 8 significant digits per float.
    text = json.dumps(json.loads(text, parse_float=lambda v: float(f"{float(v):.8g}")), separators=(",", ":"))
    with open(out, "w") as f:
        f.write(text)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")


if __name__ == "__main__":
    main()
