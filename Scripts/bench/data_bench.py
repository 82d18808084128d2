"""Side-by-side data-file benchmark: pyarrow's `read_table(…).to_pylist()` against `fledge bench data`.

Writes a 100,000-row Parquet file shaped like a chat dataset (an id, a question and an answer as text,
chat `messages` as list<struct<role, content>>, a float score, a nullable label) with pyarrow's
defaults (dictionary encoding where it pays, Snappy), plus the same table as an Arrow IPC stream and
as JSON Lines (not committed; under --work), then times reading each into rows on the same machine:
pyarrow (best of --repeats, one thread: `pa.set_cpu_count(1)`) and `fledge bench data` (best of
--repeats). Prints one line per file with both times and the ratio (pyarrow's time over Fledge's:
above 1 means Fledge is faster), and checks that `fledge data show --json` prints exactly
`json.dumps(row, ensure_ascii=False)` of every row pyarrow reads.

Run after `swift build -c release --product fledge`:

    /tmp/refvenv/bin/python Scripts/bench/data_bench.py --fledge .build/release/fledge [--work /tmp/fledge-data-bench]
"""
import argparse
import json
import os
import random
import subprocess
import time

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.json as pajson
import pyarrow.parquet as pq

ROWS = 100_000


def table():
    random.seed(0)
    words = ["apples", "how", "many", "does", "she", "have", "left", "total", "each", "hours", "miles", "cost"]
    questions, answers, messages, scores, labels = [], [], [], [], []
    for i in range(ROWS):
        question = " ".join(random.choice(words) for _ in range(random.randint(8, 40))) + f" {i}?"
        answer = " ".join(random.choice(words) for _ in range(random.randint(5, 30))) + f" #### {i % 977}"
        questions.append(question)
        answers.append(answer)
        messages.append([{"role": "user", "content": question}, {"role": "assistant", "content": answer}])
        scores.append(random.random())
        labels.append(None if i % 7 == 0 else random.choice(["easy", "medium", "hard"]))
    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.table({"id": pa.array(range(ROWS), pa.int64()), "question": questions, "answer": answers,
                     "messages": pa.array(messages, pa.list_(message)), "score": scores, "label": labels})


def pyarrow_seconds(read, repeats):
    best = float("inf")
    rows = 0
    for _ in range(repeats + 1):  # the first run warms up
        start = time.perf_counter()
        rows = len(read())
        best = min(best, time.perf_counter() - start)
    return best, rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fledge", required=True)
    parser.add_argument("--work", default="/tmp/fledge-data-bench")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    os.makedirs(args.work, exist_ok=True)
    data = table()
    parquet = os.path.join(args.work, "chat-100k.parquet")
    pq.write_table(data, parquet)
    arrow = os.path.join(args.work, "chat-100k.arrow")
    with ipc.new_stream(arrow, data.schema) as writer:
        writer.write_table(data, max_chunksize=1000)
    jsonl = os.path.join(args.work, "chat-100k.jsonl")
    with open(jsonl, "w") as f:
        for row in data.to_pylist():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")

    readers = {
        parquet: lambda: pq.read_table(parquet, use_threads=False).to_pylist(),
        arrow: lambda: ipc.open_stream(arrow).read_all().to_pylist(),
        jsonl: lambda: pajson.read_json(jsonl).to_pylist(),
    }
    for path, read in readers.items():
        python_seconds, python_rows = pyarrow_seconds(read, args.repeats)
        output = subprocess.run([args.fledge, "bench", "data", "--file", path, "--repeats", str(args.repeats), "--json"],
                                capture_output=True, text=True, check=True, env={**os.environ, "FLEDGE_NUM_THREADS": "1"})
        fledge = json.loads(output.stdout.strip().splitlines()[-1])
        assert fledge["rows"] == python_rows, (fledge["rows"], python_rows)
        shown = subprocess.run([args.fledge, "data", "show", path, "--json"], capture_output=True, text=True, check=True)
        expected = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in read())
        assert shown.stdout == expected, f"{path}: fledge data show --json differs from pyarrow's rows"
        print(json.dumps({"file": os.path.basename(path), "rows": python_rows, "pyarrow_seconds": round(python_seconds, 4),
                          "fledge_seconds": round(fledge["seconds"], 4),
                          "ratio": round(python_seconds / fledge["seconds"], 2)}))


if __name__ == "__main__":
    main()
