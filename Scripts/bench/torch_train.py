"""PyTorch eager training steps on the shapes and settings of `fledge bench train`.

    python3 Scripts/bench/torch_train.py [--batch 8] [--tokens 256] [--runs 2] [--modes lora,full] [--checkpointing false,true]

A SmolLM2-135M-shaped Llama (hidden 576, 30 layers, 9 heads, 3 KV heads, MLP 1536, vocabulary
49152, tied embeddings) with random weights in float32. One training step is a forward pass over
`batch` × `tokens` token ids, the mean next-token cross-entropy over every position (transformers'
own loss, from full logits), the backward pass and an AdamW step (lr 1e-5, weight decay 0.01 on
the weight matrices and none on norm weights, as the HF Trainer groups them). `lora` wraps every
linear layer of the decoder (q, k, v, o, gate, up, down) in a PEFT LoRA adapter with r=16,
lora_alpha 32, dropout 0, so only the adapters train. Each mode runs without and with gradient
checkpointing (transformers' `gradient_checkpointing_enable`, non-reentrant). `--modes` and
`--checkpointing` pick configurations (as `fledge bench train` takes them). Prints one JSON line
per configuration: {"mode", "gradient_checkpointing", "tokens_per_second", "peak_rss_mb", "threads"}
where tokens per second is batch × tokens over the fastest of `--runs` timed steps after a warm-up
step, and the peak RSS is the maximum resident set of a process that ran only that configuration
(each runs in a child process of this script).
"""
import argparse
import json
import resource
import subprocess
import sys
import time

import torch
from transformers import LlamaConfig, LlamaForCausalLM

SMOLLM2_135M = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5,
                    rope_theta=100000.0, tie_word_embeddings=True, hidden_act="silu",
                    bos_token_id=None, eos_token_id=None, pad_token_id=0)
LINEAR_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def build(mode, checkpointing):
    torch.manual_seed(1)
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    if mode == "lora":
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                                                 target_modules=LINEAR_MODULES, task_type="CAUSAL_LM"))
    if checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if mode == "lora":
            model.enable_input_require_grads()
    model.train()
    # Weight decay as the HF Trainer (and Fledge) apply it: not to biases and norm weights.
    trainable = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in trainable if p.ndim >= 2], "weight_decay": 0.01},
              {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=1e-5)
    return model, optimizer


def measure(mode, checkpointing, batch, tokens, runs):
    model, optimizer = build(mode, checkpointing)
    ids = torch.tensor([[(t * 7919 + row * 104729 + 17) % 49152 for t in range(tokens)] for row in range(batch)])
    best = float("inf")
    for run in range(runs + 1):
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - start
        if run > 0:
            best = min(best, seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "gradient_checkpointing": checkpointing,
            "tokens_per_second": round(batch * tokens / best, 1), "peak_rss_mb": round(peak, 1),
            "threads": torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--modes", default="lora,full")
    parser.add_argument("--checkpointing", default="false,true")
    parser.add_argument("--only", help="mode,checkpointing: measure one configuration in this process")
    args = parser.parse_args()
    if args.only:
        mode, checkpointing = args.only.split(",")
        print(json.dumps(measure(mode, checkpointing == "true", args.batch, args.tokens, args.runs)), flush=True)
        return
    for mode in args.modes.split(","):
        for checkpointing in args.checkpointing.split(","):
            command = [sys.executable, __file__, "--batch", str(args.batch), "--tokens", str(args.tokens),
                       "--runs", str(args.runs), "--only", f"{mode},{checkpointing}"]
            print(subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
