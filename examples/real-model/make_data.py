#!/usr/bin/env python3
"""Writes the arithmetic problems of examples/real-model: data/train.jsonl and data/test.jsonl.

Each row is a chat prompt (one user message) asking for the sum or the difference of two whole
numbers from 1 to 12, to be answered in one line, and the exact answer: every such problem once
(144 sums, 78 differences that are not negative), shuffled, the first 100 held out for testing and
the other 122 for training. The evaluation's rule is strict: the reply must be one line whose last
number is the answer (`7 + 5 = 12`, `12`), with nothing after it. The two splits share no problem. Deterministic (a fixed seed); Python 3, standard
library only:

    python3 examples/real-model/make_data.py
"""
import json
import pathlib
import random

TEST_COUNT = 100
SEED = 19

INSTRUCTION = "Answer in one line."


def problems():
    numbers = range(1, 13)
    sums = [(f"What is {a} + {b}?", a + b) for a in numbers for b in numbers]
    differences = [(f"What is {a} - {b}?", a - b) for a in numbers for b in numbers if a >= b]
    return sums + differences


def row(question, answer):
    return {"prompt": [{"role": "user", "content": f"{question} {INSTRUCTION}"}], "answer": str(answer)}


def main():
    shuffled = problems()
    random.Random(SEED).shuffle(shuffled)
    folder = pathlib.Path(__file__).resolve().parent / "data"
    folder.mkdir(exist_ok=True)
    splits = {"test.jsonl": shuffled[:TEST_COUNT], "train.jsonl": shuffled[TEST_COUNT:]}
    for name, rows in splits.items():
        with open(folder / name, "w") as file:
            for question, answer in rows:
                file.write(json.dumps(row(question, answer)) + "\n")
        print(f"wrote {folder / name} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
