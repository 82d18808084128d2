"""Checks that llama.cpp runs what `fledge export --format gguf` writes for the families beyond
llama/qwen2/qwen3, as Fledge runs it.

Run (from the repository root, after `swift build --product fledge`):

    /tmp/refvenv/bin/python Scripts/reference/check_family_gguf_export.py [--fledge .build/debug/fledge]

For each converter-made fixture of Tests/FledgeLMTests/Fixtures/gguf/families (made by
make_gguf_family_fixtures.py), it exports the model with `fledge export --format gguf --dtype DTYPE`
(f32 and q8_0), runs the exported file in llama.cpp (llama-cpp-python 0.3.36, float32 KV cache)
and compares with the fixture's expected.json, which GGUFFamilyTests shows Fledge reproduces
(greedy tokens identical, log-probs within 1e-4): 30 greedy tokens after each prompt and the
per-token log-probs. phi3 is skipped: llama.cpp does not load these tiny phi3 vocabularies (as for
the converter's own file). Prints one line per export; exits non-zero when an f32 export's greedy
tokens differ. Tests never run this.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_gguf_family_fixtures import OUT, llama_cpp_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fledge", default=".build/debug/fledge")
    args = parser.parse_args()
    with open(os.path.join(OUT, "expected.json")) as f:
        expected = json.load(f)
    failed = False
    with tempfile.TemporaryDirectory() as workdir:
        for name, entry in expected.items():
            if name.startswith("phi3"):
                continue
            for dtype in ("f32", "q8_0"):
                path = os.path.join(workdir, f"{name}.{dtype}.gguf")
                subprocess.run([args.fledge, "export", "--model", os.path.join(OUT, name + ".gguf"), "--output", path,
                                "--format", "gguf", "--dtype", dtype], check=True, capture_output=True)
                sequences = [case["ids"] for case in entry["score"]]
                logprobs, greedy = llama_cpp_run(path, sequences, entry["greedy"]["prompts"])
                drift = max(abs(a - b) for got, case in zip(logprobs, entry["score"]) for a, b in zip(got, case["logprobs"]))
                same = sum(a == b for got, want in zip(greedy, entry["greedy"]["new_ids"]) for a, b in zip(got, want))
                print(f"{name} exported as {dtype}: llama.cpp vs Fledge: log-probs max diff {drift:.2e}, greedy {same}/60 identical")
                failed |= dtype == "f32" and same != 60
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
