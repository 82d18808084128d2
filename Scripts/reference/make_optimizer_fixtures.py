#!/usr/bin/env python3
"""Reference fixtures for FledgeNN's optimizers and gradient clipping (schedules:
make_schedule_fixtures.py).

    pip install torch safetensors transformers bitsandbytes
    python3 Scripts/reference/make_optimizer_fixtures.py [OUT_FILE]

Writes OUT_FILE (default Tests/FledgeNNTests/Fixtures/optimizers.safetensors). Every float tensor is float32 except the clipping norms (float64); codes are uint8.

Parameters and gradients (fixed, drawn with torch.manual_seed(0)):
    param/NAME            initial values; NAME in PARAMS below ("*.bias" is 1-D and not decayed)
    grad/K/NAME           the gradient given at optimizer step K = 0 ... 4

After 5 steps, per optimizer case C (the options are listed in CASES and in the metadata):
    C/NAME                the parameter
    C/STATE/NAME          its state (exp_avg, exp_avg_sq or momentum_buffer; for the 8-bit case
                          also exp_avg_absmax / exp_avg_sq_absmax, the codes stored as uint8)

Cases: torch.optim.AdamW and torch.optim.SGD (single-tensor path, the CPU default) with a decayed
group (rank >= 2) and an undecayed group (the bias), and bitsandbytes.optim.AdamW8bit on the CPU.
bitsandbytes' native CPU quantizer looks codes up in a 65536-entry table over [-1, 1], which
maps small values to the wrong code (0 becomes code 131, about 1.5e-5); the script routes the
optimizer's re-quantization to a copy of bitsandbytes' pure-PyTorch `quantize_blockwise` kernel
(backends/default), which picks the nearest code as the CUDA kernel does. Dequantization and
the update are bitsandbytes' CPU code unchanged.

Quantization (bitsandbytes.functional.create_dynamic_map and the nearest-code quantizer above):
    qmap/signed, qmap/unsigned                 the two 256-entry dynamic maps
    quant/signed/input, /codes, /absmax         blockwise (256) quantization of a signed input
    quant/unsigned/input, /codes, /absmax       and of a non-negative input
    (each input has an all-zero block and ends in a partial block)

Clipping (torch.nn.utils.clip_grad_norm_): clip/CASE/grad/I (input), clip/CASE/clipped/I,
clip/CASE/norm and clip/CASE/max_norm for CASE in {clipped, unclipped}.
"""
import os
import sys

import torch
from safetensors.torch import save_file

import bitsandbytes as bnb
import bitsandbytes.backends.cpu.ops as bnb_cpu_ops
import bitsandbytes.functional as bnbf

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "Tests", "FledgeNNTests", "Fixtures", "optimizers.safetensors")

STEPS = 5
# (name, shape): non-square, one 1-D bias, and "big.weight" with 8-bit state in the 8-bit case
# (two full 256-blocks and a partial one; min_8bit_size is lowered from 4096 to 512 to keep the
# fixture small).
PARAMS = [("layer.weight", (5, 7)), ("layer.bias", (5,)), ("proj.weight", (6, 11)), ("big.weight", (19, 29))]
MIN_8BIT_SIZE = 512

CASES = {
    "adamw": lambda groups: torch.optim.AdamW(groups(0.01), lr=1e-3),
    "adamw_beta_half": lambda groups: torch.optim.AdamW(groups(0.1), lr=2e-3, betas=(0.5, 0.99), eps=1e-6),
    "sgd_momentum": lambda groups: torch.optim.SGD(groups(0.01), lr=0.05, momentum=0.9),
    "sgd_nesterov": lambda groups: torch.optim.SGD(groups(0.0), lr=0.05, momentum=0.9, nesterov=True),
    "sgd_plain": lambda groups: torch.optim.SGD(groups(0.01), lr=0.05),
    "adamw8bit": lambda groups: bnb.optim.AdamW8bit(groups(0.01), lr=1e-3, min_8bit_size=MIN_8BIT_SIZE),
}
CASE_OPTIONS = {
    "adamw": "torch.optim.AdamW lr=1e-3 wd=0.01",
    "adamw_beta_half": "torch.optim.AdamW lr=2e-3 betas=(0.5,0.99) eps=1e-6 wd=0.1",
    "sgd_momentum": "torch.optim.SGD lr=0.05 momentum=0.9 wd=0.01",
    "sgd_nesterov": "torch.optim.SGD lr=0.05 momentum=0.9 nesterov wd=0",
    "sgd_plain": "torch.optim.SGD lr=0.05 wd=0.01",
    "adamw8bit": f"bitsandbytes.optim.AdamW8bit lr=1e-3 wd=0.01 min_8bit_size={MIN_8BIT_SIZE} (blocksize 256)",
}


def nearest_code_quantize(values, code, blocksize):
    """bitsandbytes' pure-PyTorch blockwise quantizer (backends/default/ops.py, quantize_blockwise),
    copied because the CPU registration shadows it: the nearest code to value · (1 / block absmax),
    ties to the lower code. Unlike the original, a partial last block is scaled like the others
    (the original divides it, and stores absmax 1e-38 for an all-zero one where this stores 0)."""
    flat = values.reshape(-1).float()
    n = flat.numel()
    blocks = -(n // -blocksize)
    padded = torch.cat([flat, flat.new_zeros(blocks * blocksize - n)]).reshape(blocks, blocksize)
    absmax = padded.abs().max(dim=-1)[0]
    scaled = torch.clamp(padded * (1.0 / absmax.clamp(min=1e-38).view(-1, 1)), -1, 1).reshape(-1)[:n]
    bounds = (code[:-1] + code[1:]) / 2
    codes = torch.bucketize(scaled, bounds, out_int32=True).to(torch.uint8)
    return codes.reshape(values.shape), absmax


def default_quantize(values, code, absmax_out, codes_out, blocksize):
    """Replaces bitsandbytes' CPU re-quantization step inside its 8-bit optimizer update."""
    codes, absmax = nearest_code_quantize(values, code, blocksize)
    codes_out.copy_(codes)
    absmax_out.copy_(absmax)


def run_case(name, make, initial, grads):
    params = {n: torch.nn.Parameter(t.clone()) for n, t in initial.items()}

    def groups(weight_decay):
        decayed = [p for n, p in params.items() if p.dim() >= 2]
        plain = [p for n, p in params.items() if p.dim() < 2]
        return [{"params": decayed, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]

    optimizer = make(groups)
    for step in range(STEPS):
        for n, p in params.items():
            p.grad = grads[step][n].clone()
        optimizer.step()
    out = {}
    for n, p in params.items():
        out[f"{name}/{n}"] = p.detach().clone()
        state = optimizer.state[p]
        if name == "adamw8bit":
            quantized = state["state1"].dtype == torch.uint8
            out[f"{name}/exp_avg/{n}"] = state["state1"].clone()
            out[f"{name}/exp_avg_sq/{n}"] = state["state2"].clone()
            if quantized:
                out[f"{name}/exp_avg_absmax/{n}"] = state["absmax1"].clone()
                out[f"{name}/exp_avg_sq_absmax/{n}"] = state["absmax2"].clone()
        else:
            for key in ("exp_avg", "exp_avg_sq", "momentum_buffer"):
                if state.get(key) is not None:
                    out[f"{name}/{key}/{n}"] = state[key].clone()
    return out


def quantization_cases():
    out = {"qmap/signed": bnbf.create_dynamic_map(signed=True), "qmap/unsigned": bnbf.create_dynamic_map(signed=False)}
    signed = torch.randn(3 * 256 + 77) * torch.logspace(-4, 1, 3 * 256 + 77)
    signed[256:512] = 0
    signed[600] = 0
    inputs = {"signed": signed, "unsigned": signed.abs() ** 2}
    for kind, values in inputs.items():
        codes, absmax = nearest_code_quantize(values, out[f"qmap/{kind}"], 256)
        out[f"quant/{kind}/input"] = values
        out[f"quant/{kind}/codes"] = codes
        out[f"quant/{kind}/absmax"] = absmax
    return out


def clipping_cases():
    out = {}
    for case, max_norm in (("clipped", 1.5), ("unclipped", 100.0)):
        grads = [torch.randn(4, 9), torch.randn(7) * 3, torch.randn(3, 2, 5)]
        params = [torch.nn.Parameter(torch.zeros_like(g)) for g in grads]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        for i, (p, g) in enumerate(zip(params, grads)):
            out[f"clip/{case}/grad/{i}"] = g
            out[f"clip/{case}/clipped/{i}"] = p.grad.clone()
        out[f"clip/{case}/norm"] = norm.to(torch.float64).reshape(1)
        out[f"clip/{case}/max_norm"] = torch.tensor([max_norm], dtype=torch.float64)
    return out


def main():
    torch.manual_seed(0)
    bnb_cpu_ops._quant_blockwise_fp32_direct = default_quantize
    initial = {n: torch.randn(shape) for n, shape in PARAMS}
    grads = [{n: torch.randn(shape) * (0.5 + step) for n, shape in PARAMS} for step in range(STEPS)]
    tensors = {f"param/{n}": t for n, t in initial.items()}
    for step, g in enumerate(grads):
        tensors.update({f"grad/{step}/{n}": t for n, t in g.items()})
    for name, make in CASES.items():
        tensors.update(run_case(name, make, initial, grads))
    tensors.update(quantization_cases())
    tensors.update(clipping_cases())
    metadata = {f"case.{k}": v for k, v in CASE_OPTIONS.items()}
    metadata["versions"] = f"torch {torch.__version__}, bitsandbytes {bnb.__version__}"
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, OUT, metadata=metadata)
    print(f"wrote {OUT}: {len(tensors)} tensors, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
