#!/usr/bin/env python3
"""Reference blocks for Fledge's quantized weight formats, from gguf-py and bitsandbytes.

How to run (from the repository root, in a venv with torch, numpy, safetensors, gguf and
bitsandbytes; bitsandbytes runs its CPU backend):

    /tmp/refvenv/bin/python Scripts/reference/make_quant_fixtures.py

Writes Tests/FledgeTensorTests/Fixtures/quantization.safetensors. Byte tensors are U8, values
F32. Shapes are small and non-square; every case's weights come from a fixed seed.

    q8_0/weights, q8_0/blocks, q8_0/dequantized     gguf.quants.quantize / dequantize (Q8_0)
    q4_0/weights, q4_0/blocks, q4_0/dequantized     the same for Q4_0
    q4_k/blocks, q4_k/dequantized                   random Q4_K blocks (gguf-py has no Q4_K
                                                    quantizer) and gguf-py's dequantization
    dynamic/code                                    bitsandbytes' 8-bit dynamic map
    dynamic/input, dynamic/quantized,               bitsandbytes.functional.quantize_blockwise
    dynamic/absmax, dynamic/dequantized             (blocksize 256, last block partial)
    {nf4,fp4}/weights, /packed, /absmax,            bitsandbytes.functional.quantize_4bit
    /dequantized                                    (blocksize 64) and dequantize_4bit
    nf4_nested/weights (F16), /packed,              the same with compress_statistics=True:
    /absmax_quantized, /absmax_scales,              the absmax minus its mean, quantized with
    /absmax_offset, /absmax, /dequantized           the dynamic map in blocks of 256
"""

import os

import numpy as np
import torch
from safetensors.torch import save_file

import bitsandbytes.functional as bnb
from gguf import GGMLQuantizationType, quants

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "FledgeTensorTests", "Fixtures", "quantization.safetensors")


def u8(array):
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.uint8).reshape(-1).copy())


def f32(array):
    return torch.as_tensor(np.ascontiguousarray(array, dtype=np.float32)).clone()


def gguf_case(tensors, name, qtype, weights):
    blocks = quants.quantize(weights, qtype)
    tensors[f"{name}/weights"] = f32(weights)
    tensors[f"{name}/blocks"] = u8(blocks)
    tensors[f"{name}/dequantized"] = f32(quants.dequantize(blocks, qtype))


def gguf_weights(rng, rows, columns):
    weights = rng.standard_normal((rows, columns)).astype(np.float32) * 0.05
    weights[1, :32] = 0  # an all-zero block: scale 0
    weights[2, 32:64] = np.float32(0.02)  # a constant block: every value on a level
    weights[3, 5] = 3.0  # an outlier sets its block's scale
    weights[4, 40] = -3.0  # a negative extreme (Q4_0 keeps its sign in d)
    return weights


def q4_k_blocks(rng, count):
    blocks = rng.integers(0, 256, size=(count, 144), dtype=np.uint8)
    scales = (rng.random((count, 2)) * 0.01 + 1e-4).astype(np.float16)  # d and dmin
    blocks[:, 0:4] = scales.view(np.uint8)
    return blocks


def four_bit_case(tensors, name, quant_type, weights, nested):
    packed, state = bnb.quantize_4bit(weights, blocksize=64, compress_statistics=nested, quant_type=quant_type)
    # float16-representable weights are stored as F16 (exact), which halves the file.
    tensors[f"{name}/weights"] = weights.half() if nested else weights.clone()
    tensors[f"{name}/packed"] = u8(packed.numpy())
    tensors[f"{name}/dequantized"] = bnb.dequantize_4bit(packed, state).float().clone()
    if nested:
        tensors[f"{name}/absmax_quantized"] = u8(state.absmax.numpy())
        tensors[f"{name}/absmax_scales"] = state.state2.absmax.float().clone()
        tensors[f"{name}/absmax_offset"] = state.offset.reshape(1).float().clone()
        absmax = bnb.dequantize_blockwise(state.absmax, state.state2) + state.offset
        tensors[f"{name}/absmax"] = absmax.float().clone()
    else:
        tensors[f"{name}/absmax"] = state.absmax.float().clone()


def main():
    rng = np.random.default_rng(18)
    torch.manual_seed(18)
    tensors = {}

    gguf_case(tensors, "q8_0", GGMLQuantizationType.Q8_0, gguf_weights(rng, 5, 96))
    gguf_case(tensors, "q4_0", GGMLQuantizationType.Q4_0, gguf_weights(rng, 5, 96))

    blocks = q4_k_blocks(rng, 6)
    tensors["q4_k/blocks"] = u8(blocks)
    tensors["q4_k/dequantized"] = f32(quants.dequantize(blocks.reshape(3, 288), GGMLQuantizationType.Q4_K))

    code = bnb.create_dynamic_map()
    tensors["dynamic/code"] = code.float().clone()
    dynamic_input = torch.randn(700) * torch.linspace(0.1, 2.0, 700)
    quantized, state = bnb.quantize_blockwise(dynamic_input, blocksize=256)
    tensors["dynamic/input"] = dynamic_input.clone()
    tensors["dynamic/quantized"] = u8(quantized.numpy())
    tensors["dynamic/absmax"] = state.absmax.float().clone()
    tensors["dynamic/dequantized"] = bnb.dequantize_blockwise(quantized, state).float().clone()

    for quant_type in ("nf4", "fp4"):
        weights = torch.randn(6, 192) * 0.05
        weights[0, :64] = 0  # an all-zero block
        weights[1, 7] = 1.5  # an outlier
        four_bit_case(tensors, quant_type, quant_type, weights, nested=False)
    # Rows are whole blocks: bitsandbytes' AVX-512 CPU dequantization indexes the absmax by row
    # and mis-scales a row that ends inside a block; checkpoints never have such rows.
    # 270 blocks of 64: two blocks of 256 absmax values, the second one partial. The nested
    # absmax quantization does not depend on the 4-bit type, so NF4 alone covers it.
    nested_weights = (torch.randn(30, 576) * torch.linspace(0.01, 0.1, 30).reshape(30, 1)).half().float()
    four_bit_case(tensors, "nf4_nested", "nf4", nested_weights, nested=True)

    save_file({name: tensor.contiguous() for name, tensor in sorted(tensors.items())}, OUT)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(tensors)} tensors)")


if __name__ == "__main__":
    main()
