#!/usr/bin/env python3
"""Writes the safetensors fixtures that Tests/FledgeTensorTests/SafeTensorsTests.swift reads.

Each tensor is saved by Hugging Face's `safetensors` library (via PyTorch), and
`expected.json` records, for every tensor, its dtype, shape and the exact values it should
load as: float32 bit patterns for float tensors (so NaN, infinities and signed zeros compare
exactly), integers for the others. Float16/bfloat16 tensors also record the float32 values
they were rounded from, so the tests can check that Fledge rounds exactly like PyTorch.

Usage: python Scripts/reference/make_safetensors_fixtures.py [output-dir]
(needs `pip install torch safetensors`; default output is the test fixtures folder).
"""

import json
import pathlib
import sys

import torch
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "Tests" / "FledgeTensorTests" / "Fixtures" / "safetensors"


def f32_bits(t: torch.Tensor) -> list:
    return t.detach().to(torch.float32).contiguous().view(torch.int32).flatten().tolist()


def as_u32(bits: list) -> list:
    return [b & 0xFFFFFFFF for b in bits]


def main() -> None:
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(1234)

    special = torch.tensor(
        [0.0, -0.0, 1.0, -2.5, float("inf"), float("-inf"), float("nan"),
         65504.0, 65519.0, 65520.0, 1e-8, 6e-8, 3e-5, 1.00048828125, 1.0009765625,
         3.0e38, -3.4e38, 1.1754942e-38, 1e-40],
        dtype=torch.float32,
    )
    f16_source = torch.cat([special, torch.randn(24 - special.numel(), generator=g) * 100]).reshape(2, 3, 4)
    bf16_source = torch.cat([special, torch.randn(4 * 7 - special.numel(), generator=g) * 3]).reshape(4, 7)

    tensors = {
        "f32": torch.randn(3, 5, generator=g),
        "f16": f16_source.to(torch.float16),
        "bf16": bf16_source.to(torch.bfloat16),
        "f64": torch.randn(2, 3, generator=g, dtype=torch.float64),
        "scalar": torch.tensor(3.25, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float16),
        "i64": torch.tensor([[0, -1, 2**40, -(2**62)], [7, 151643, 151645, 9]], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), 2**31 - 1, 0], dtype=torch.int32),
        "i16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, -3], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([[True, False], [False, True]]),
    }
    metadata = {"format": "pt", "producer": "make_safetensors_fixtures.py"}
    save_file(tensors, str(out / "mixed.safetensors"), metadata=metadata)

    expected = {"metadata": metadata, "tensors": {}}
    for name, t in tensors.items():
        entry = {"dtype": str(t.dtype).removeprefix("torch."), "shape": list(t.shape)}
        if t.is_floating_point():
            entry["bits"] = as_u32(f32_bits(t))
        else:
            entry["values"] = [int(v) for v in t.flatten().tolist()]
        expected["tensors"][name] = entry
    expected["tensors"]["f16"]["source_bits"] = as_u32(f32_bits(f16_source))
    expected["tensors"]["bf16"]["source_bits"] = as_u32(f32_bits(bf16_source))
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
