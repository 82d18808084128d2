#!/usr/bin/env python3
"""Held-out accuracy of examples/real-model: greedy replies to data/test.jsonl, scored exactly.

A reply is correct when, stripped of surrounding white space, it is one line that ends with the
answer (an optional period after it): "7 + 5 = 12", "12." and "The answer is 12" are right, "7 + 5 =
13", "7 + 5 = 12\n\nThis is a classic example" and a reply cut off at 16 tokens are not. The share of
correct replies is the accuracy. The script also reports the lenient rate (the reply's last number
is the answer, whatever else it says), to tell stopping from arithmetic.

Fledge (one `fledge generate --chat --greedy` per problem):

    python3 examples/real-model/evaluate.py --model models/SmolLM2-135M-Instruct.Q4_1.gguf \
        [--adapter runs/real-model/checkpoint-60] --output runs/real-model/eval-before.jsonl

llama.cpp (llama-cpp-python, greedy, the GGUF file's chat template), on an exported GGUF file or
on the base file with a LoRA adapter GGUF:

    python3 examples/real-model/evaluate.py --llama-cpp --model smollm2-real-model.gguf [--lora adapter.gguf]

`--compare FILE` also counts the replies identical to those of an earlier --output file.
Python 3, standard library only (llama-cpp-python for --llama-cpp).
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
MAX_NEW_TOKENS = 16


def fledge_reply(args, text):
    command = [args.fledge, "generate", "--model", args.model, "--prompt", text, "--chat", "--greedy",
               "--max-new-tokens", str(MAX_NEW_TOKENS), "--json"]
    if args.adapter:
        command += ["--adapter", args.adapter]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"fledge generate failed ({result.returncode}): {result.stderr.strip()}")
    reply = json.loads(result.stdout.strip().splitlines()[-1])
    return reply["text"], reply["finish_reason"] == "length"


def llama_cpp_replier(args):
    from llama_cpp import Llama
    options = {"lora_path": args.lora} if args.lora else {}
    model = Llama(model_path=args.model, n_ctx=256, n_threads=1, verbose=False, seed=0, **options)

    def reply(text):
        response = model.create_chat_completion(messages=[{"role": "user", "content": text}], max_tokens=MAX_NEW_TOKENS,
                                                temperature=0.0, top_k=1)
        choice = response["choices"][0]
        return choice["message"]["content"], choice["finish_reason"] == "length"
    return reply


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a .gguf file or model directory")
    parser.add_argument("--adapter", help="a PEFT adapter directory (Fledge)")
    parser.add_argument("--llama-cpp", action="store_true", help="generate with llama.cpp (llama-cpp-python)")
    parser.add_argument("--lora", help="a llama.cpp LoRA adapter GGUF (with --llama-cpp)")
    parser.add_argument("--fledge", default=".build/release/fledge", help="the fledge executable")
    parser.add_argument("--data", default=str(HERE / "data" / "test.jsonl"))
    parser.add_argument("--limit", type=int, help="only the first N problems")
    parser.add_argument("--output", help="write one JSON line per problem (question, answer, reply, correct)")
    parser.add_argument("--compare", help="an earlier --output file: count identical replies")
    args = parser.parse_args()

    rows = [json.loads(line) for line in open(args.data) if line.strip()][:args.limit]
    reply = llama_cpp_replier(args) if args.llama_cpp else (lambda text: fledge_reply(args, text))
    start = time.time()
    results = []
    for row in rows:
        question = row["prompt"][-1]["content"]
        text, cut_off = reply(question)
        numbers = re.findall(r"-?\d+", text)
        one_line = re.fullmatch(r"[^\n]*?(-?\d+)\.?", text.strip())
        results.append({"question": question, "answer": row["answer"], "reply": text,
                        "cut_off": cut_off,
                        "correct": not cut_off and one_line is not None and one_line.group(1) == row["answer"],
                        "last_number_correct": bool(numbers) and numbers[-1] == row["answer"]})
    seconds = time.time() - start
    if args.output:
        with open(args.output, "w") as file:
            for result in results:
                file.write(json.dumps(result) + "\n")
    count = len(results)
    summary = {"problems": count, "accuracy": sum(r["correct"] for r in results) / count,
               "last_number_accuracy": sum(r["last_number_correct"] for r in results) / count,
               "seconds": round(seconds, 1)}
    if args.compare:
        earlier = [json.loads(line) for line in open(args.compare)]
        summary["identical_to_compare"] = sum(a["reply"].strip() == b["reply"].strip() for a, b in zip(results, earlier))
    for result in results[:5]:
        print(f"{result['question']!r} -> {result['reply']!r} ({'right' if result['correct'] else 'wrong'}, answer {result['answer']})")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
