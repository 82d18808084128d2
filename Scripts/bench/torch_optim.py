"""PyTorch's (and bitsandbytes') optimizer step times on the parameter sets of `fledge bench optim`.

    python3 Scripts/bench/torch_optim.py [--seconds S] [--set lora|full|both]

Prints one JSON line per optimizer and set: {"set", "optimizer", "parameters", "ms" per step (wall),
"cpu_ms" (process CPU time per step, all threads: the work done, which other processes on the
machine do not inflate), "state_mib"}. The sets are the trainable tensors of a SmolLM2-135M-shaped model (hidden 576, MLP
1536, 30 layers, KV width 192, vocabulary 49152): all weights (`full`), or rank-16 LoRA A and B
on every attention and MLP projection (`lora`). `adamw` is torch.optim.AdamW's default on the CPU
(the single-tensor loop), `adamw_fused` its fused CPU kernel (transformers' default optimizer),
`adamw_8bit` bitsandbytes.optim.AdamW8bit when bitsandbytes is installed.
"""
import argparse
import json
import time

import torch

HIDDEN, MLP, KV, LAYERS, VOCAB, RANK = 576, 1536, 192, 30, 49152, 16


def shapes(which):
    projections = [("q_proj", HIDDEN, HIDDEN), ("k_proj", KV, HIDDEN), ("v_proj", KV, HIDDEN), ("o_proj", HIDDEN, HIDDEN),
                   ("gate_proj", MLP, HIDDEN), ("up_proj", MLP, HIDDEN), ("down_proj", HIDDEN, MLP)]
    out = [(VOCAB, HIDDEN), (HIDDEN,)] if which == "full" else []
    for _ in range(LAYERS):
        for _, output, inp in projections:
            out += [(output, inp)] if which == "full" else [(RANK, inp), (output, RANK)]
        if which == "full":
            out += [(HIDDEN,), (HIDDEN,)]
    return out


def timed(fn, seconds):
    """(wall, process CPU) milliseconds per run, as fledge bench optim reports them."""
    for _ in range(2):
        fn()
    runs, start, start_cpu = 0, time.perf_counter(), time.process_time()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and runs >= 3:
            return round(elapsed / runs * 1e3, 2), round((time.process_time() - start_cpu) / runs * 1e3, 2)


def state_mib(optimizer):
    total = 0
    for state in optimizer.state.values():
        for value in state.values():
            if torch.is_tensor(value) and value.numel() > 1:
                total += value.numel() * value.element_size()
    return round(total / 2**20, 1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--set", default="both", choices=["lora", "full", "both"])
    args = parser.parse_args()
    makers = {
        "adamw": lambda ps: torch.optim.AdamW(ps, lr=1e-5, weight_decay=0.01),
        "adamw_fused": lambda ps: torch.optim.AdamW(ps, lr=1e-5, weight_decay=0.01, fused=True),
        "sgd_momentum": lambda ps: torch.optim.SGD(ps, lr=1e-5, momentum=0.9),
    }
    try:
        import bitsandbytes as bnb
        makers["adamw_8bit"] = lambda ps: bnb.optim.AdamW8bit(ps, lr=1e-5, weight_decay=0.01)
    except ImportError:
        pass
    for which in (["lora", "full"] if args.set == "both" else [args.set]):
        torch.manual_seed(5)
        params = [torch.nn.Parameter((torch.rand(s) - 0.5) * 0.1) for s in shapes(which)]
        for p in params:
            p.grad = (torch.rand(p.shape) - 0.5) * 2e-3
        elements = sum(p.numel() for p in params)
        for name, make in makers.items():
            optimizer = make(params)
            ms, cpu_ms = timed(optimizer.step, args.seconds)
            print(json.dumps({"set": which, "optimizer": name, "parameters": elements, "ms": ms, "cpu_ms": cpu_ms,
                              "state_mib": state_mib(optimizer)}))
            del optimizer
        ms, cpu_ms = timed(lambda: torch.nn.utils.clip_grad_norm_(params, 1e9), args.seconds)
        print(json.dumps({"set": which, "optimizer": "clip_grad_norm", "parameters": elements, "ms": ms, "cpu_ms": cpu_ms,
                          "state_mib": 0.0}))


if __name__ == "__main__":
    main()
