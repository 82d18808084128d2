"""transformers' `generate` on the shapes and settings of `fledge bench generate`.

    python3 Scripts/bench/hf_generate.py [--batches 1,8] [--prompt-tokens 32] [--new-tokens 128] [--runs 3]
                                         [--completion-lengths 16,64,128,256]

A SmolLM2-135M-shaped Llama (hidden 576, 30 layers, 9 heads, 3 KV heads, MLP 1536, vocabulary
49152, tied embeddings, rope theta 100000) with random weights, float32, eager mode, sampling at
temperature 1 with no top-k/top-p filter and EOS ignored. Prints one JSON line per batch size:
{"batch": B, "new_tokens": N, "tokens_per_second": ...} (all sequences' new tokens per second
of the whole `generate` call, prompt included; the fastest of `--runs` timed runs after a warm-up).
With `--completion-lengths`, row r stops after the (r mod n)-th of the n lengths (a per-row stopping
criterion, as `fledge bench generate --completion-lengths` stops its rows); the new tokens counted
are those lengths, and `generate` runs until the longest row stops.
"""
import argparse
import json
import time

import torch
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, StoppingCriteria, StoppingCriteriaList

SMOLLM2_135M = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5,
                    rope_theta=100000.0, tie_word_embeddings=True, hidden_act="silu",
                    bos_token_id=None, eos_token_id=None, pad_token_id=0)


class StopAtLengths(StoppingCriteria):
    """Row r is done once it has `lengths[r]` new tokens."""

    def __init__(self, prompt_tokens, lengths):
        self.prompt_tokens = prompt_tokens
        self.lengths = torch.tensor(lengths)

    def __call__(self, input_ids, scores, **kwargs):
        return torch.full((input_ids.shape[0],), input_ids.shape[1] - self.prompt_tokens) >= self.lengths


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--completion-lengths", default=None)
    args = parser.parse_args()
    try:
        lengths = [int(n) for n in args.completion_lengths.split(",")] if args.completion_lengths else [args.new_tokens]
    except ValueError:
        lengths = []
    if not lengths or not all(n > 0 for n in lengths):
        parser.error(f"--completion-lengths must be positive integers separated by commas, got {args.completion_lengths}")
    torch.manual_seed(1)
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M)).eval()
    generation = GenerationConfig(do_sample=True, temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=max(lengths),
                                  min_new_tokens=0, eos_token_id=None, pad_token_id=0)
    for batch in [int(b) for b in args.batches.split(",")]:
        prompts = torch.tensor([[(t * 7919 + row * 104729 + 17) % 49152 for t in range(args.prompt_tokens)]
                                for row in range(batch)])
        mask = torch.ones_like(prompts)
        expected = [lengths[row % len(lengths)] for row in range(batch)]
        stopping = StoppingCriteriaList([StopAtLengths(args.prompt_tokens, expected)]) if args.completion_lengths else None
        best = float("inf")
        with torch.inference_mode():
            for run in range(args.runs + 1):
                start = time.perf_counter()
                out = model.generate(input_ids=prompts, attention_mask=mask, generation_config=generation,
                                     stopping_criteria=stopping)
                seconds = time.perf_counter() - start
                assert out.shape[1] == args.prompt_tokens + max(expected)
                if run > 0:
                    best = min(best, seconds)
        print(json.dumps({"batch": batch, "new_tokens": max(lengths),
                          "completion_lengths": ",".join(map(str, lengths)),
                          "tokens_per_second": round(sum(expected) / best, 1),
                          "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
