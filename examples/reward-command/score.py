#!/usr/bin/env python3
"""A reward_command for Fledge: scores GSM8K-style completions against the `answer` column.

Fledge starts this script once (config: `reward_command: python3 examples/reward-command/score.py`)
and keeps it running for the whole training run. For every completion it writes one JSON line to
the script's standard input:

    {"prompt": <text or chat messages>, "completion": "<text>", "completion_ids": [<ids>],
     "answer": "... #### 27", <every other column of the dataset row>}

For each line, in order, the script must print one line {"reward": <number>} or {"reward": null}
(no reward for this completion) and flush its output. Anything written to standard error shows up
in Fledge's output and in its error message if the script fails.

The reward:
  1.0  the number inside <answer>...</answer> equals the reference (the number after "####");
  0.5  no such tag, but the completion's last number equals the reference;
  0.0  otherwise;
  null the row has no usable reference answer.

Only the standard library is used, so any python3 runs it.
"""

import json
import re
import sys
from typing import Optional

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)


def number(text: str) -> Optional[float]:
    """The value of the last number in `text` (commas and dollar signs ignored), or None."""
    matches = NUMBER.findall(text.replace("$", ""))
    if not matches:
        return None
    try:
        return float(matches[-1].replace(",", ""))
    except ValueError:
        return None


def reference(row: dict) -> Optional[float]:
    """The reference answer: the number after the last "####" of the `answer` column."""
    answer = row.get("answer")
    if isinstance(answer, (int, float)):
        return float(answer)
    if not isinstance(answer, str) or "####" not in answer:
        return None
    return number(answer.rsplit("####", 1)[1])


def score(row: dict) -> Optional[float]:
    """The reward of one completion, or None when the row has no reference answer."""
    expected = reference(row)
    if expected is None:
        return None
    completion = row["completion"]
    tags = ANSWER_TAG.findall(completion)
    if tags:
        given = number(tags[-1])
        return 1.0 if given is not None and abs(given - expected) < 1e-6 else 0.0
    given = number(completion)
    return 0.5 if given is not None and abs(given - expected) < 1e-6 else 0.0


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reward = score(json.loads(line))
        except (ValueError, KeyError, TypeError) as error:
            # One bad line should not stop training: no reward for it, and say why on stderr.
            print(f"score.py: cannot score {line[:200]!r}: {error}", file=sys.stderr, flush=True)
            reward = None
        print(json.dumps({"reward": reward}), flush=True)


if __name__ == "__main__":
    main()
