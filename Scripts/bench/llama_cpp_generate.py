"""llama.cpp's batch-1 decoding (through llama-cpp-python) on a GGUF file, as `fledge bench generate --model`.

    python3 Scripts/bench/llama_cpp_generate.py MODEL.gguf [--prompt-tokens 32] [--new-tokens 128]
                                                [--threads 2] [--runs 3]

Install llama.cpp built for this CPU: `CMAKE_ARGS="-DGGML_NATIVE=ON" pip install llama-cpp-python`.
Make the F32 / Q8_0 / Q4_0 files with `Scripts/bench/make_bench_gguf.py`.

One sequence: the prompt (the token ids `fledge bench generate` feeds, spread over the vocabulary)
is evaluated in one batch, then each new token is sampled at temperature 1 with no top-k/top-p
filter (llama.cpp's `dist` sampler) and fed back alone, EOS ignored, until `--new-tokens`. Prints
one JSON line: {"batch": 1, "new_tokens": N, "tokens_per_second": ..., "decode_tokens_per_second": ...};
`tokens_per_second` counts the whole call (prompt evaluation and the first token included, as
`fledge bench generate` and `hf_generate.py` count), `decode_tokens_per_second` the N - 1 tokens
after the first over the time they took. Each is the fastest of `--runs` timed runs after a warm-up.
"""
import argparse
import json
import os
import time

import llama_cpp
from llama_cpp import Llama


def prompt_ids(length, vocabulary):
    """Row 0 of `SmolLM2Shape.tokenIds` (Sources/FledgeCLI/Bench/SmolLM2Shape.swift)."""
    return [(t * 7919 + 17) % vocabulary for t in range(length)]


def timed_run(model, sampler, prompt, new_tokens):
    """Seconds for the whole generation and for the tokens after the first."""
    model.reset()
    start = time.perf_counter()
    model.eval(prompt)
    token = llama_cpp.llama_sampler_sample(sampler, model.ctx, -1)
    first = time.perf_counter()
    for _ in range(new_tokens - 1):
        model.eval([token])
        token = llama_cpp.llama_sampler_sample(sampler, model.ctx, -1)
    end = time.perf_counter()
    assert model.n_tokens == len(prompt) + new_tokens - 1
    return end - start, end - first


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.new_tokens < 2 or args.prompt_tokens < 1:
        parser.error("--new-tokens must be at least 2 and --prompt-tokens at least 1")
    if not os.path.isfile(args.model):
        parser.error(f"{args.model}: no such GGUF file (make one with Scripts/bench/make_bench_gguf.py)")
    model = Llama(args.model, n_ctx=args.prompt_tokens + args.new_tokens, n_batch=args.prompt_tokens,
                  n_threads=args.threads, n_threads_batch=args.threads, seed=1, verbose=False)
    sampler = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(sampler, llama_cpp.llama_sampler_init_dist(1))
    prompt = prompt_ids(args.prompt_tokens, model.n_vocab())
    whole = decode = float("inf")
    for run in range(args.runs + 1):
        seconds, decode_seconds = timed_run(model, sampler, prompt, args.new_tokens)
        if run > 0:
            whole, decode = min(whole, seconds), min(decode, decode_seconds)
    llama_cpp.llama_sampler_free(sampler)
    print(json.dumps({"batch": 1, "new_tokens": args.new_tokens, "model": os.path.basename(args.model),
                      "tokens_per_second": round(args.new_tokens / whole, 1),
                      "decode_tokens_per_second": round((args.new_tokens - 1) / decode, 1),
                      "threads": args.threads, "llama_cpp_python": llama_cpp.__version__}))


if __name__ == "__main__":
    main()
