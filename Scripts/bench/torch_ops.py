"""PyTorch eager forward+backward times of the fused ops on the shapes of `fledge bench ops`.

    python3 Scripts/bench/torch_ops.py [--seconds S]

Prints one JSON line per op: {"op": ..., "ms": forward+backward milliseconds, ...}; for the
selective log-softmax also the peak extra memory of the plain `log_softmax(h @ W.T)` path.
Shapes follow a SmolLM-135M-sized model on 8 sequences of 256 tokens (hidden 576, 9 heads,
3 KV heads, head dim 64, MLP 1536, vocabulary 49152).
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F

B, T, H, HEADS, KV_HEADS, D, MLP, V = 8, 256, 576, 9, 3, 64, 1536, 49152


def timed(fn, seconds):
    for _ in range(2):
        fn()
    runs, start = 0, time.perf_counter()
    while True:
        fn()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and runs >= 3:
            return elapsed / runs * 1e3


def rms_norm(x, w, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    torch.manual_seed(0)
    results = []

    # Selective log-softmax first, so that its peak memory is measured against a fresh
    # high-water mark: the plain path holds [N, V] logits and log-probabilities.
    hidden = torch.randn(B * T, H, requires_grad=True)
    weight = torch.randn(V, H) * 0.02
    targets = torch.randint(0, V, (B * T,))

    def selective_log_softmax():
        logits = hidden @ weight.T
        logp = torch.gather(logits.log_softmax(-1), 1, targets[:, None]).squeeze(1)
        logp.sum().backward()

    peak = peak_rss_growth(selective_log_softmax)

    x = torch.randn(B, T, H, requires_grad=True)
    w = torch.ones(H, requires_grad=True)
    g = torch.randn(B, T, H)
    results.append(("rms_norm", timed(lambda: rms_norm(x, w).backward(g), args.seconds)))

    q = torch.randn(B, T, HEADS, D, requires_grad=True)
    inv_freq = 1.0 / (10000 ** (torch.arange(0, D, 2).float() / D))
    freqs = torch.arange(T).float()[:, None] * inv_freq[None, :]
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos()[None, :, None, :], emb.sin()[None, :, None, :]
    gq = torch.randn(B, T, HEADS, D)
    results.append(("rope", timed(lambda: rope(q, cos, sin).backward(gq), args.seconds)))

    gate = torch.randn(B, T, MLP, requires_grad=True)
    up = torch.randn(B, T, MLP, requires_grad=True)
    gm = torch.randn(B, T, MLP)
    results.append(("swiglu", timed(lambda: (F.silu(gate) * up).backward(gm), args.seconds)))
    results.append(("geglu", timed(lambda: (F.gelu(gate, approximate="tanh") * up).backward(gm), args.seconds)))

    # transformers' sdpa path: [B, heads, T, D] with K/V repeated for grouped-query attention.
    qa = torch.randn(B, HEADS, T, D, requires_grad=True)
    ka = torch.randn(B, KV_HEADS, T, D, requires_grad=True)
    va = torch.randn(B, KV_HEADS, T, D, requires_grad=True)
    ga = torch.randn(B, HEADS, T, D)
    group = HEADS // KV_HEADS

    def attention():
        k = ka.repeat_interleave(group, dim=1)
        v = va.repeat_interleave(group, dim=1)
        F.scaled_dot_product_attention(qa, k, v, is_causal=True).backward(ga)

    results.append(("attention", timed(attention, args.seconds)))

    ms = timed(selective_log_softmax, args.seconds)
    results.append(("selective_log_softmax", ms, peak))
    for item in results:
        line = {"op": item[0], "ms": round(item[1], 3)}
        if len(item) > 2:
            line["peak_mib"] = round(item[2] / 2**20, 1)
        print(json.dumps(line, separators=(",", ":")), flush=True)


def peak_rss_growth(fn):
    """How far one call of `fn` raises the process's peak resident memory, in bytes."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024


if __name__ == "__main__":
    main()
