#!/usr/bin/env python3
"""Generate PyTorch reference fixtures for the Fledge Swift tests.

How to run (from the repository root):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install torch safetensors numpy \
        && /tmp/venv/bin/python Scripts/reference/make_op_fixtures.py [--only FILE ...]

Writes (or, with --only, just the named files, e.g. --only gemma_ops.safetensors):
    Tests/FledgeTensorTests/Fixtures/ops.safetensors
    Tests/FledgeTensorTests/Fixtures/tiny_transformer.safetensors
    Tests/FledgeTensorTests/Fixtures/gemma_ops.safetensors

gemma_ops.safetensors holds the fused ops Gemma needs, in ops.safetensors' layout (seed 17):
    geglu                              gelu_pytorch_tanh(in0) * in1
    soft_capped_attention              a prefill with grouped heads, left padding and a window
    soft_capped_attention_cache_step   3 queries over 8 keys, padding and a window
    soft_capped_selective_log_softmax  out (log p) and entropy, as selective_log_softmax
with the scalars of each case under NAME/scale, NAME/cap, NAME/window, NAME/temperature.

Conventions: inputs are generated in float32 (torch.manual_seed(0)), all math is
done in float64 on those exact float32 values, and every float tensor is stored
as float32; index / id tensors are stored as int64.

ops.safetensors, per case NAME:
    NAME/in{i}    float inputs           NAME/out    output
    NAME/gout     upstream gradient      NAME/grad{i} d(sum(out*gout))/d in{i}
    plus case-specific extras (NAME/index, NAME/ids, NAME/positions, NAME/cond,
    NAME/key_mask, NAME/targets, NAME/entropy, NAME/gout_entropy).
"""

import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.set_grad_enabled(True)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "FledgeTensorTests", "Fixtures")

f32 = torch.float32
f64 = torch.float64


def randn(*shape):
    return torch.randn(tuple(shape), dtype=f32)


def rand(*shape):
    return torch.rand(tuple(shape), dtype=f32)


def away_from_zero(x, m=0.1):
    """Push values with |x| < m out to |x| >= m (keeps sign)."""
    return torch.where(x.abs() < m, torch.where(x >= 0, x + m, x - m), x)


def positive(*shape):
    return 0.2 + rand(*shape) * 2


# ---------------------------------------------------------------------------
# Shared reference building blocks (work in any float dtype)
# ---------------------------------------------------------------------------

def rms_norm(x, weight, eps=1e-6):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate_half(x):
    d = x.shape[-1] // 2
    return torch.cat([-x[..., d:], x[..., :d]], dim=-1)


def rope(x, positions, theta=10000.0):
    """x: [B, T, heads, D]; positions: int64 [B, T]. HF Llama convention."""
    D = x.shape[-1]
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=f64) / D))
    freqs = positions.to(f64)[..., None] * inv_freq          # [B, T, D/2]
    emb = torch.cat([freqs, freqs], dim=-1)                   # [B, T, D]
    cos = emb.cos().to(x.dtype).unsqueeze(2)                  # [B, T, 1, D]
    sin = emb.sin().to(x.dtype).unsqueeze(2)
    return x * cos + rotate_half(x) * sin


def attention(q, k, v, key_mask, offset=0):
    """q: [B, Tq, Hq, D]; k, v: [B, Tk, Hkv, D]; key_mask: [B, Tk] (1 = real).

    Causal: query i attends key j iff j <= i + offset and key_mask[b, j] == 1.
    Grouped-query: q head h uses kv head h // (Hq // Hkv).
    Query rows with no allowed key get probability 0 (output exactly 0).
    """
    B, Tq, Hq, D = q.shape
    Tk, Hkv = k.shape[1], k.shape[2]
    group = Hq // Hkv
    scale = 1.0 / math.sqrt(D)
    qh = q.permute(0, 2, 1, 3)                                 # [B, Hq, Tq, D]
    kh = k.permute(0, 2, 1, 3).repeat_interleave(group, dim=1)  # [B, Hq, Tk, D]
    vh = v.permute(0, 2, 1, 3).repeat_interleave(group, dim=1)
    scores = (qh @ kh.transpose(-1, -2)) * scale               # [B, Hq, Tq, Tk]
    i = torch.arange(Tq)[:, None]
    j = torch.arange(Tk)[None, :]
    causal = j <= i + offset                                   # [Tq, Tk]
    allowed = causal[None, :, :] & (key_mask[:, None, :] != 0)  # [B, Tq, Tk]
    allowed = allowed[:, None, :, :]                           # [B, 1, Tq, Tk]
    scores = scores.masked_fill(~allowed, -1e9)
    probs = torch.softmax(scores, dim=-1)
    any_allowed = allowed.any(dim=-1, keepdim=True)
    probs = torch.where(any_allowed, probs, torch.zeros_like(probs))
    out = probs @ vh                                           # [B, Hq, Tq, D]
    return out.permute(0, 2, 1, 3)                             # [B, Tq, Hq, D]


def selective_log_softmax(hidden, weight, targets, temperature=1.0, cap=None):
    """log softmax(logits / T)[target] and the entropy, where logits = h·Wᵀ, soft-capped to
    cap·tanh(logits / cap) when `cap` is given (Gemma's final_logit_softcapping)."""
    logits = hidden @ weight.T
    if cap is not None:
        logits = torch.tanh(logits / cap) * cap
    logits = logits / temperature
    lsm = torch.log_softmax(logits, dim=-1)
    logp = lsm.gather(-1, targets[:, None]).squeeze(-1)
    entropy = -(lsm.exp() * lsm).sum(-1)
    return logp, entropy


# ---------------------------------------------------------------------------
# ops.safetensors
# ---------------------------------------------------------------------------

def record_case(tensors, shapes, name, inputs, fn, extras=None):
    """Records case NAME: inputs (float32 tensors), fn(*float64 leaves) -> output, its upstream
    gradient (drawn here) and the input gradients of sum(out * gout)."""
    extras = extras or {}
    leaves = [x.to(f64).requires_grad_(True) for x in inputs]
    out = fn(*leaves)
    gout = randn(*out.shape)
    grads = torch.autograd.grad((out * gout.to(f64)).sum(), leaves,
                                allow_unused=True)
    for i, x in enumerate(inputs):
        tensors[f"{name}/in{i}"] = x.to(f32).contiguous()
    for k, v in extras.items():
        tensors[f"{name}/{k}"] = v.contiguous()
    tensors[f"{name}/gout"] = gout.contiguous()
    tensors[f"{name}/out"] = out.detach().to(f32).contiguous()
    for i, (x, g) in enumerate(zip(inputs, grads)):
        if g is None:
            g = torch.zeros_like(x, dtype=f64)
        tensors[f"{name}/grad{i}"] = g.to(f32).contiguous()
    shapes.append((name, [tuple(x.shape) for x in inputs],
                   {k: tuple(v.shape) for k, v in extras.items()},
                   tuple(out.shape)))


def record_selective_case(tensors, shapes, name, hidden, weight, targets, temperature, cap=None, extras=None):
    """Records a selective log-softmax case: two outputs (out = log p, entropy), each with its
    upstream gradient (drawn here), and the gradients of hidden (grad0) and weight (grad1)."""
    rows = hidden.shape[0]
    h64 = hidden.to(f64).requires_grad_(True)
    w64 = weight.to(f64).requires_grad_(True)
    logp, ent = selective_log_softmax(h64, w64, targets, temperature=temperature, cap=cap)
    gout, gout_ent = randn(rows), randn(rows)
    gh, gw = torch.autograd.grad(
        (logp * gout.to(f64)).sum() + (ent * gout_ent.to(f64)).sum(), [h64, w64])
    tensors.update({
        f"{name}/in0": hidden, f"{name}/in1": weight, f"{name}/targets": targets,
        f"{name}/gout": gout, f"{name}/gout_entropy": gout_ent,
        f"{name}/out": logp.detach().to(f32), f"{name}/entropy": ent.detach().to(f32),
        f"{name}/grad0": gh.to(f32), f"{name}/grad1": gw.to(f32),
    })
    for k, v in (extras or {}).items():
        tensors[f"{name}/{k}"] = v
    shapes.append((name, [tuple(hidden.shape), tuple(weight.shape)], {"targets": tuple(targets.shape)}, (rows,)))


def make_ops():
    torch.manual_seed(0)
    tensors = {}
    shapes = []

    def case(name, inputs, fn, extras=None):
        record_case(tensors, shapes, name, inputs, fn, extras)

    # --- broadcasting binary ops
    case("add", [randn(3, 4, 5), randn(4, 1)], lambda a, b: a + b)
    case("sub", [randn(2, 3, 4), randn(3, 1)], lambda a, b: a - b)
    case("mul", [randn(3, 1, 5), randn(4, 5)], lambda a, b: a * b)
    den = (0.5 + rand(3, 4)) * torch.where(rand(3, 4) < 0.5, -1.0, 1.0)
    case("div", [randn(3, 4), den], lambda a, b: a / b)
    case("maximum", [randn(3, 5), randn(5)], torch.maximum)
    case("minimum", [randn(3, 5), randn(5)], torch.minimum)

    # --- unary ops
    case("exp", [randn(3, 7)], torch.exp)
    case("neg", [randn(3, 7)], torch.neg)
    case("abs", [away_from_zero(randn(3, 7))], torch.abs)
    case("sigmoid", [randn(3, 7)], torch.sigmoid)
    case("logsigmoid", [randn(3, 7)], F.logsigmoid)
    case("silu", [randn(3, 7)], F.silu)
    case("tanh", [randn(3, 7)], torch.tanh)
    case("relu", [away_from_zero(randn(3, 7))], torch.relu)
    case("square", [randn(3, 7)], lambda a: a * a)
    case("log", [positive(4, 6)], torch.log)
    case("sqrt", [positive(4, 6)], torch.sqrt)
    case("rsqrt", [positive(4, 6)], torch.rsqrt)
    x = randn(3, 7)
    for edge in (-0.5, 0.7):
        near = (x - edge).abs() < 1e-2
        x = torch.where(near, x + 2e-2, x)
    assert ((x + 0.5).abs() > 1e-3).all() and ((x - 0.7).abs() > 1e-3).all()
    case("clamp", [x], lambda a: torch.clamp(a, min=-0.5, max=0.7))
    case("pow", [positive(4, 6)], lambda a: a ** 2.5)
    case("scale", [randn(2, 3)], lambda a: a * 1.75)
    case("add_scalar", [randn(2, 3)], lambda a: a + 0.25)

    # --- where
    cond = torch.tensor([[1.0], [0.0], [1.0]], dtype=f32)
    case("where", [randn(3, 4), randn(4)],
         lambda a, b: torch.where(cond != 0, a, b), {"cond": cond})

    # --- reductions
    case("sum_axis1", [randn(3, 4, 5)], lambda a: a.sum(dim=1))
    case("sum_all", [randn(3, 4)], lambda a: a.sum())
    case("sum_keepdim", [randn(3, 4, 5)], lambda a: a.sum(dim=2, keepdim=True))
    case("mean_last", [randn(3, 4, 5)], lambda a: a.mean(dim=-1))
    case("max_axis0", [randn(4, 3)], lambda a: torch.max(a, dim=0).values)
    case("logsumexp_axis1", [randn(3, 5, 2)], lambda a: a.logsumexp(dim=1))
    case("softmax_last", [randn(3, 7)], lambda a: a.softmax(-1))
    case("log_softmax_axis1", [randn(2, 5, 3)], lambda a: a.log_softmax(dim=1))

    # --- matmul
    case("matmul_nn", [randn(2, 3, 4), randn(4, 5)], lambda a, b: a @ b)
    case("matmul_batched", [randn(2, 3, 4), randn(2, 4, 5)], lambda a, b: a @ b)
    case("matmul_nt", [randn(3, 4), randn(5, 4)], lambda a, b: a @ b.T)
    case("matmul_tn", [randn(4, 3), randn(4, 5)], lambda a, b: a.T @ b)
    case("matmul_broadcast", [randn(2, 1, 3, 4), randn(3, 4, 5)],
         lambda a, b: a @ b)

    # --- shape ops
    case("permute", [randn(2, 3, 4)], lambda a: a.permute(2, 0, 1))
    case("reshape", [randn(2, 3, 4)], lambda a: a.reshape(6, 4))
    case("transpose", [randn(2, 3, 4)], lambda a: a.transpose(0, 2))
    case("slice", [randn(5, 4)], lambda a: a[1:4])
    case("slice_axis1", [randn(3, 6, 2)], lambda a: a[:, 2:5])
    case("concat", [randn(2, 3), randn(2, 5)],
         lambda a, b: torch.cat([a, b], dim=1))
    case("stack", [randn(3, 4), randn(3, 4)],
         lambda a, b: torch.stack([a, b], dim=0))
    case("expand", [randn(3, 1)], lambda a: a.expand(2, 3, 4))

    # --- indexing
    index = torch.randint(0, 5, (3, 2), dtype=torch.int64)
    index[1] = torch.tensor([3, 3])  # repeated index within a row
    case("gather", [randn(3, 5)], lambda a: torch.gather(a, 1, index),
         {"index": index})
    ids = torch.randint(0, 7, (2, 3), dtype=torch.int64)
    ids[1, 2] = ids[0, 0]  # repeated id
    ids[0, 1] = ids[0, 0]
    case("embedding", [randn(7, 4)], lambda w: F.embedding(ids, w), {"ids": ids})

    # --- model blocks
    case("rms_norm", [randn(2, 3, 8), 1 + 0.1 * randn(8)],
         lambda x, w: rms_norm(x, w, 1e-6))
    positions = torch.tensor([[0, 1, 2, 3, 4], [1, 1, 0, 1, 2]], dtype=torch.int64)
    case("rope", [randn(2, 5, 3, 8)], lambda x: rope(x, positions, 10000.0),
         {"positions": positions})
    case("swiglu", [randn(3, 10), randn(3, 10)], lambda g, u: F.silu(g) * u)

    key_mask = torch.tensor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], dtype=f32)
    case("attention", [randn(2, 5, 4, 6), randn(2, 5, 2, 6), randn(2, 5, 2, 6)],
         lambda q, k, v: attention(q, k, v, key_mask.to(f64), offset=0),
         {"key_mask": key_mask})
    km1 = torch.ones(1, 5, dtype=f32)
    case("attention_offset",
         [randn(1, 2, 4, 6), randn(1, 5, 2, 6), randn(1, 5, 2, 6)],
         lambda q, k, v: attention(q, k, v, km1.to(f64), offset=5 - 2),
         {"key_mask": km1})

    # --- selective log-softmax (two outputs, custom storage)
    hidden, weight = randn(6, 8), randn(11, 8)
    targets = torch.randint(0, 11, (6,), dtype=torch.int64)
    record_selective_case(tensors, shapes, "selective_log_softmax", hidden, weight, targets, 0.7)

    # Post-check: attention fully-masked rows are exactly zero.
    a = tensors["attention/out"]
    assert (a[1, :2] == 0).all() and (tensors["attention/grad0"][1, :2] == 0).all()

    return tensors, shapes


# ---------------------------------------------------------------------------
# gemma_ops.safetensors
# ---------------------------------------------------------------------------

def soft_capped_attention(q, k, v, key_mask, scale, cap, window):
    """Gemma 2's eager attention: scores·scale, cap·tanh(scores/cap), then the causal mask (query i
    at position i + Tk − Tq sees keys j with position − window < j <= position) and key padding;
    a query that sees no key (a padding row) gets 0, as in `attention`. Shapes as in `attention`."""
    B, Tq, Hq, D = q.shape
    Tk, Hkv = k.shape[1], k.shape[2]
    group = Hq // Hkv
    qh = q.permute(0, 2, 1, 3)
    kh = k.permute(0, 2, 1, 3).repeat_interleave(group, dim=1)
    vh = v.permute(0, 2, 1, 3).repeat_interleave(group, dim=1)
    scores = (qh @ kh.transpose(-1, -2)) * scale
    scores = torch.tanh(scores / cap) * cap
    position = torch.arange(Tq)[:, None] + (Tk - Tq)
    j = torch.arange(Tk)[None, :]
    allowed = (j <= position) & (j > position - window)
    allowed = (allowed[None, :, :] & (key_mask[:, None, :] != 0))[:, None, :, :]
    probs = torch.softmax(scores.masked_fill(~allowed, -1e9), dim=-1)
    probs = torch.where(allowed.any(dim=-1, keepdim=True), probs, torch.zeros_like(probs))
    return (probs @ vh).permute(0, 2, 1, 3)


def make_gemma_ops():
    torch.manual_seed(17)
    tensors = {}
    shapes = []

    def case(name, inputs, fn, extras):
        record_case(tensors, shapes, name, inputs, fn, extras)

    # 285 values: AVX2 blocks and a tail; gates over the range where GELU-tanh bends and saturates.
    case("geglu", [randn(3, 5, 19) * 3, randn(3, 5, 19)],
         lambda g, u: F.gelu(g, approximate="tanh") * u, {})

    scalar = lambda x: torch.tensor([x], dtype=f32)
    scale, cap = 0.3, 1.2
    key_mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1]], dtype=f32)
    case("soft_capped_attention", [randn(2, 7, 6, 4) * 2, randn(2, 7, 2, 4) * 2, randn(2, 7, 2, 4)],
         lambda q, k, v: soft_capped_attention(q, k, v, key_mask.to(f64), scale, cap, 3),
         {"key_mask": key_mask, "scale": scalar(scale), "cap": scalar(cap), "window": scalar(3)})
    key_mask = torch.tensor([[1, 1, 1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1, 1, 1]], dtype=f32)
    case("soft_capped_attention_cache_step", [randn(2, 3, 4, 6) * 2, randn(2, 8, 2, 6) * 2, randn(2, 8, 2, 6)],
         lambda q, k, v: soft_capped_attention(q, k, v, key_mask.to(f64), scale, cap, 4),
         {"key_mask": key_mask, "scale": scalar(scale), "cap": scalar(cap), "window": scalar(4)})

    cap, temperature = 1.5, 0.7
    hidden, weight = randn(7, 5), randn(13, 5)
    assert (hidden @ weight.T).abs().max() > 2 * cap, "the cap must bite"
    targets = torch.randint(0, 13, (7,), dtype=torch.int64)
    record_selective_case(tensors, shapes, "soft_capped_selective_log_softmax", hidden, weight, targets, temperature,
                          cap=cap, extras={"cap": scalar(cap), "temperature": scalar(temperature)})
    return tensors, shapes


# ---------------------------------------------------------------------------
# tiny_transformer.safetensors
# ---------------------------------------------------------------------------

V, H, QH, KVH, HD, I = 37, 24, 4, 2, 6, 40
B, T = 2, 7
THETA, EPS = 10000.0, 1e-6


def make_transformer_params():
    torch.manual_seed(0)
    p = {"embed": randn(V, H) * 0.2}
    for l in range(2):
        p[f"layers.{l}.input_norm"] = 1 + 0.1 * randn(H)
        p[f"layers.{l}.q_proj"] = randn(QH * HD, H) * 0.2
        p[f"layers.{l}.k_proj"] = randn(KVH * HD, H) * 0.2
        p[f"layers.{l}.v_proj"] = randn(KVH * HD, H) * 0.2
        p[f"layers.{l}.o_proj"] = randn(H, QH * HD) * 0.2
        p[f"layers.{l}.post_norm"] = 1 + 0.1 * randn(H)
        p[f"layers.{l}.gate_proj"] = randn(I, H) * 0.2
        p[f"layers.{l}.up_proj"] = randn(I, H) * 0.2
        p[f"layers.{l}.down_proj"] = randn(H, I) * 0.2
    p["final_norm"] = 1 + 0.1 * randn(H)
    p["lm_head"] = randn(V, H) * 0.2
    input_ids = torch.randint(0, V, (B, T), dtype=torch.int64)
    attention_mask = torch.ones(B, T, dtype=f32)
    attention_mask[1, :2] = 0
    position_ids = (attention_mask.long().cumsum(-1) - 1)
    position_ids = position_ids.masked_fill(attention_mask == 0, 1)
    return p, input_ids, attention_mask, position_ids


def transformer_forward(p, input_ids, attention_mask, position_ids):
    """p: dict of leaf tensors (all same float dtype). Returns dict of results."""
    x = p["embed"][input_ids]                                  # [B, T, H]
    km = attention_mask.to(x.dtype)
    for l in range(2):
        pre = f"layers.{l}."
        h = rms_norm(x, p[pre + "input_norm"], EPS)
        q = (h @ p[pre + "q_proj"].T).view(B, T, QH, HD)
        k = (h @ p[pre + "k_proj"].T).view(B, T, KVH, HD)
        v = (h @ p[pre + "v_proj"].T).view(B, T, KVH, HD)
        q, k = rope(q, position_ids, THETA), rope(k, position_ids, THETA)
        a = attention(q, k, v, km, offset=0)
        x = x + a.reshape(B, T, QH * HD) @ p[pre + "o_proj"].T
        h2 = rms_norm(x, p[pre + "post_norm"], EPS)
        x = x + (F.silu(h2 @ p[pre + "gate_proj"].T) * (h2 @ p[pre + "up_proj"].T)) \
            @ p[pre + "down_proj"].T
    hf = rms_norm(x, p["final_norm"], EPS)
    targets = input_ids[:, 1:].reshape(-1)
    loss_mask = (km[:, :-1] * km[:, 1:]).reshape(-1)
    logp, _ = selective_log_softmax(hf[:, :T - 1].reshape(B * (T - 1), H),
                                    p["lm_head"], targets, temperature=1.0)
    loss = -(logp * loss_mask).sum() / loss_mask.sum()
    return {"final_hidden": hf, "targets": targets, "loss_mask": loss_mask,
            "logp": logp, "loss": loss}


def run_transformer(p32, input_ids, attention_mask, position_ids, dtype):
    leaves = {k: v.to(dtype).requires_grad_(True) for k, v in p32.items()}
    r = transformer_forward(leaves, input_ids, attention_mask, position_ids)
    names = list(leaves)
    grads = torch.autograd.grad(r["loss"], [leaves[n] for n in names])
    return r, dict(zip(names, grads))


def make_transformer():
    p, input_ids, attention_mask, position_ids = make_transformer_params()
    r, g = run_transformer(p, input_ids, attention_mask, position_ids, f64)
    tensors = {k: v.contiguous() for k, v in p.items()}
    tensors.update({
        "input_ids": input_ids, "attention_mask": attention_mask,
        "position_ids": position_ids,
        "targets": r["targets"].contiguous(),
        "loss_mask": r["loss_mask"].to(f32).contiguous(),
        "logp": r["logp"].detach().to(f32),
        "loss": r["loss"].detach().to(f32).reshape(1),
        "final_hidden": r["final_hidden"].detach().to(f32).contiguous(),
    })
    for k, v in g.items():
        tensors[f"grad.{k}"] = v.to(f32).contiguous()

    # float32 vs float64 agreement
    r32, g32 = run_transformer(p, input_ids, attention_mask, position_ids, f32)
    print("\ntiny transformer: float32 vs float64 max abs diff")
    print(f"  loss {r['loss'].item():.8f}  (f32 {r32['loss'].item():.8f})")
    worst = 0.0
    for key in ("final_hidden", "logp", "loss"):
        d = (r32[key].detach().to(f64) - r[key].detach()).abs().max().item()
        worst = max(worst, d)
        print(f"  {key:<24} {d:.3e}")
    for k in g:
        d = (g32[k].to(f64) - g[k]).abs().max().item()
        rel = d / max(g[k].abs().max().item(), 1e-30)
        worst = max(worst, d)
        print(f"  grad.{k:<22} {d:.3e}  (rel-to-max {rel:.2e})")
    print(f"  worst {worst:.3e}")
    assert worst < 1e-4, worst
    return tensors


# ---------------------------------------------------------------------------
# gradchecks (float64)
# ---------------------------------------------------------------------------

def gradchecks():
    torch.manual_seed(123)
    d = lambda *s: torch.randn(*s, dtype=f64, requires_grad=True)
    km = torch.tensor([[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], dtype=f64)
    pos = torch.tensor([[0, 1, 2, 3, 4], [1, 1, 0, 1, 2]])
    checks = {
        "attention": (lambda q, k, v: attention(q, k, v, km),
                      (d(2, 5, 4, 6), d(2, 5, 2, 6), d(2, 5, 2, 6))),
        "attention_offset": (lambda q, k, v: attention(q, k, v, torch.ones(1, 5, dtype=f64), 3),
                             (d(1, 2, 4, 6), d(1, 5, 2, 6), d(1, 5, 2, 6))),
        "rope": (lambda x: rope(x, pos), (d(2, 5, 3, 8),)),
        "rms_norm": (lambda x, w: rms_norm(x, w), (d(2, 3, 8), d(8))),
        "selective_log_softmax": (
            lambda h, w: selective_log_softmax(h, w, torch.tensor([0, 3, 10, 5, 5, 1]), 0.7),
            (d(6, 8), d(11, 8))),
    }
    print("\ngradcheck (float64):")
    for name, (fn, args) in checks.items():
        ok = torch.autograd.gradcheck(fn, args, eps=1e-6, atol=1e-6, rtol=1e-5)
        print(f"  {name:<24} {ok}")
        assert ok
    # rope by hand: rotation must preserve per-pair norms
    x = torch.randn(2, 5, 3, 8, dtype=f64)
    y = rope(x, pos)
    nx = x[..., :4] ** 2 + x[..., 4:] ** 2
    ny = y[..., :4] ** 2 + y[..., 4:] ** 2
    assert torch.allclose(nx, ny), "rope should be a rotation"


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    only = set(sys.argv[sys.argv.index("--only") + 1:]) if "--only" in sys.argv else None
    written = []

    def wanted(file):
        return only is None or file in only

    for file, make in (("ops.safetensors", make_ops), ("gemma_ops.safetensors", make_gemma_ops)):
        if not wanted(file):
            continue
        tensors, shapes = make()
        print(f"{file} cases (inputs -> out):")
        for name, ins, extras, out in shapes:
            ex = "".join(f" {k}={list(v)}" for k, v in extras.items())
            print(f"  {name:<34} {[list(s) for s in ins]}{ex} -> {list(out)}")
        path = os.path.join(OUT_DIR, file)
        save_file(tensors, path)
        written.append(path)

    if wanted("tiny_transformer.safetensors"):
        tt = make_transformer()
        tt_path = os.path.join(OUT_DIR, "tiny_transformer.safetensors")
        save_file(tt, tt_path)
        written.append(tt_path)

    if only is None:
        gradchecks()

    print()
    for path in written:
        print(f"wrote {os.path.relpath(path, REPO)}: {os.path.getsize(path)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
