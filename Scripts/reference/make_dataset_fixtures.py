"""Parquet, Arrow IPC, JSON and CSV files as pyarrow and `datasets` write them, with the rows they read
back, for Fledge's dataset reader tests.

    /tmp/refvenv/bin/python Scripts/reference/make_dataset_fixtures.py [OUT_DIR]

Writes, under OUT_DIR (default Tests/FledgeDataTests/Fixtures/datasets):

- `parquet/<case>.parquet`: one small table (chat `messages` as list<struct<role, content>>, nested
  lists, a struct, nulls everywhere, every integer width, float32/float64, booleans, unicode text) in
  three row groups, once per combination of compression (none, snappy, gzip, zstd), data page version
  (1.0, 2.0) and encoding (pyarrow's default dictionary encoding; `use_dictionary=False` for PLAIN;
  DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT per column),
  with tiny data pages so that every column chunk holds several pages;
- `arrow/`: the same table as an Arrow IPC file and stream (uncompressed and zstd), and a `datasets`
  `save_to_disk` folder (`dataset_dict.json`, `train/data-00000-of-00001.arrow`, `state.json`);
- `text/`: JSON Lines, a JSON array and a CSV file (RFC 4180 quoting, empty fields) as read by
  `datasets.load_dataset("json" | "csv")`;
- `repos/`: dataset folders laid out as on the Hub: one with README.md `configs:` (two configs), one with
  `data/train-00000-of-00001.parquet` shards, one with `train.jsonl`/`test.jsonl`; their rows as
  `datasets.load_dataset(folder, config, split=…)` gives them;
- `Tests/FledgeRLTests/Fixtures/{sft,dpo}/parquet/<case>.parquet`: SFT and DPO fixture rows exported with
  `Dataset.to_parquet`, as they come from the Hub, for the tests that train from Parquet;
- `expected.json`: for each file, its rows as `to_pylist()` (Arrow) or `Dataset.to_list()` gives them,
  with the column types as pyarrow prints them and the row-group count, and for some files each row as
  `json.dumps(row, ensure_ascii=False)` prints it (`fledge data show --json` must print exactly that).
"""
import json
import os
import shutil
import sys

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq
import datasets

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "FledgeDataTests", "Fixtures", "datasets")


def chat(*pairs):
    return [{"role": role, "content": content} for role, content in pairs]


ROWS = [
    {"id": 0, "prompt": "What is 2 + 2?", "messages": chat(("user", "What is 2 + 2?"), ("assistant", "4")),
     "scores": [0.5, -1.25], "tags": [["math"], ["easy", "short"]], "meta": {"source": "gsm8k", "level": 1},
     "flag": True, "ratio": 0.1, "i8": -128, "i16": -32768, "i32": -2147483648, "u8": 255, "u16": 65535,
     "u32": 4294967295, "u64": 2**63 - 1},
    {"id": 1, "prompt": None, "messages": [], "scores": None, "tags": [], "meta": None,
     "flag": None, "ratio": None, "i8": None, "i16": None, "i32": None, "u8": None, "u16": None, "u32": None, "u64": None},
    {"id": 2, "prompt": "Ünïcödé — 日本語 🙂", "messages": None, "scores": [None, 3.0], "tags": None,
     "meta": {"source": None, "level": None}, "flag": False, "ratio": -2.5, "i8": 127, "i16": 32767,
     "i32": 2147483647, "u8": 0, "u16": 0, "u32": 0, "u64": 0},
    {"id": -3, "prompt": "", "messages": chat(("system", "Be brief."), ("user", "Hi"), ("assistant", None)),
     "scores": [], "tags": [[], None, ["x"]], "meta": {"source": "", "level": -7}, "flag": True, "ratio": 3.25,
     "i8": 1, "i16": 2, "i32": 3, "u8": 4, "u16": 5, "u32": 6, "u64": 7},
]
for i in range(4, 11):
    ROWS.append({"id": i * 1000003, "prompt": f"prompt number {i} " * (i % 3 + 1),
                 "messages": chat(("user", f"question {i}"), ("assistant", f"answer {i}" if i % 2 else "same")),
                 "scores": [float(i), i / 3], "tags": [[f"t{i}", "same"]], "meta": {"source": "same", "level": i},
                 "flag": i % 2 == 0, "ratio": i / 7, "i8": -i, "i16": i * 100, "i32": -i * 100000, "u8": i,
                 "u16": i * 1000, "u32": i * 100000000, "u64": i * 10**17})

MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])
SCHEMA = pa.schema([
    ("id", pa.int64()), ("prompt", pa.string()), ("messages", pa.list_(MESSAGE)), ("scores", pa.list_(pa.float64())),
    ("tags", pa.list_(pa.list_(pa.string()))), ("meta", pa.struct([("source", pa.string()), ("level", pa.int32())])),
    ("flag", pa.bool_()), ("ratio", pa.float32()), ("i8", pa.int8()), ("i16", pa.int16()), ("i32", pa.int32()),
    ("u8", pa.uint8()), ("u16", pa.uint16()), ("u32", pa.uint32()), ("u64", pa.uint64()),
])
TABLE = pa.Table.from_pylist(ROWS, schema=SCHEMA)

DELTA_INTS = ["id", "i8", "i16", "i32", "u8", "u16", "u32", "u64", "meta.level"]
ENCODINGS = {
    "dictionary": {},
    "plain": {"use_dictionary": False},
    "delta": {"use_dictionary": False, "column_encoding": {
        **{name: "DELTA_BINARY_PACKED" for name in DELTA_INTS}, "prompt": "DELTA_LENGTH_BYTE_ARRAY",
        "messages.list.element.role": "DELTA_BYTE_ARRAY", "messages.list.element.content": "DELTA_LENGTH_BYTE_ARRAY",
        "tags.list.element.list.element": "DELTA_BYTE_ARRAY", "meta.source": "DELTA_BYTE_ARRAY"}},
    "split": {"use_dictionary": False, "column_encoding": {
        "ratio": "BYTE_STREAM_SPLIT", "scores.list.element": "BYTE_STREAM_SPLIT", "id": "BYTE_STREAM_SPLIT",
        "i32": "BYTE_STREAM_SPLIT"}},
}
expected = {}


def record(path, rows, columns=None, row_groups=None):
    entry = {"rows": rows}
    name = os.path.relpath(path, OUT)
    if name.startswith(("parquet/dictionary-", "arrow/", "text/")):
        # What `fledge data show --json` must print: json.dumps of each row, as Python prints it.
        entry["json_lines"] = [json.dumps(row, ensure_ascii=False) for row in rows]
    if columns is not None:
        entry["columns"] = columns
    if row_groups is not None:
        entry["row_groups"] = row_groups
    expected[os.path.relpath(path, OUT)] = entry


def columns_of(schema):
    return [[field.name, str(field.type)] for field in schema]


shutil.rmtree(OUT, ignore_errors=True)
for sub in ("parquet", "arrow", "text", "repos"):
    os.makedirs(os.path.join(OUT, sub))

for compression in ("none", "snappy", "gzip", "zstd"):
    for version in ("1.0", "2.0"):
        for encoding, options in ENCODINGS.items():
            if compression in ("gzip", "zstd") and encoding != "dictionary":
                continue  # codecs are independent of encodings: each codec once per page version is enough
            path = os.path.join(OUT, "parquet", f"{encoding}-{compression}-v{version[0]}.parquet")
            pq.write_table(TABLE, path, compression=compression, data_page_version=version, row_group_size=4,
                           data_page_size=96, write_batch_size=3, **options)
            read = pq.read_table(path)
            record(path, read.to_pylist(), columns_of(read.schema), pq.ParquetFile(path).num_row_groups)

# A column with a single value repeated (long RLE runs in the dictionary indices and levels).
path = os.path.join(OUT, "parquet", "runs.parquet")
runs = pa.table({"label": ["same"] * 300 + [None] * 50 + ["other"] * 9, "n": pa.array([5] * 359, pa.int32())})
pq.write_table(runs, path)
record(path, pq.read_table(path).to_pylist(), columns_of(runs.schema), 1)

arrow_table = TABLE
path = os.path.join(OUT, "arrow", "table.arrow")
with ipc.new_file(path, arrow_table.schema) as writer:
    for batch in arrow_table.to_batches(max_chunksize=4):
        writer.write_batch(batch)
record(path, arrow_table.to_pylist(), columns_of(arrow_table.schema))
path = os.path.join(OUT, "arrow", "stream-zstd.arrows")
with ipc.new_stream(path, arrow_table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
    for batch in arrow_table.to_batches(max_chunksize=5):
        writer.write_batch(batch)
record(path, arrow_table.to_pylist(), columns_of(arrow_table.schema))
path = os.path.join(OUT, "arrow", "dictionary.arrows")
dictionary_table = pa.table({"label": pa.array(["b", "a", None, "b"]).dictionary_encode(),
                             "big": pa.array(["x" * 3, None, "yz", ""], pa.large_string())})
with ipc.new_stream(path, dictionary_table.schema) as writer:
    writer.write_table(dictionary_table)
record(path, dictionary_table.to_pylist(), columns_of(dictionary_table.schema))

saved = os.path.join(OUT, "arrow", "saved")
small = [{"prompt": row["prompt"], "messages": row["messages"], "id": row["id"]} for row in ROWS[:5]]
datasets.DatasetDict({"train": datasets.Dataset.from_list(small), "test": datasets.Dataset.from_list(small[:2])}).save_to_disk(saved)
for split in ("train", "test"):
    shard = os.path.join(saved, split, "data-00000-of-00001.arrow")
    record(shard, datasets.load_from_disk(saved)[split].to_list())

text_rows = [{"prompt": "a, \"quoted\" one", "answer": 4, "score": 0.5, "ok": True},
             {"prompt": "line\nbreak", "answer": -2, "score": None, "ok": False},
             {"prompt": "plain", "answer": 7, "score": 2.0, "ok": True}]
path = os.path.join(OUT, "text", "rows.jsonl")
with open(path, "w") as f:
    for row in text_rows:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
record(path, datasets.load_dataset("json", data_files=path, split="train").to_list())
path = os.path.join(OUT, "text", "rows.json")
with open(path, "w") as f:
    json.dump(text_rows, f, indent=1)
record(path, datasets.load_dataset("json", data_files=path, split="train").to_list())
path = os.path.join(OUT, "text", "rows.csv")
with open(path, "w", newline="") as f:
    f.write('prompt,answer,score,ok,code\r\n"a, ""quoted"" one",4,0.5,True,007\r\n"line\nbreak",-2,,False,x\r\nplain,7,2,True,\r\n')
record(path, datasets.load_dataset("csv", data_files=path, split="train").to_list())

# Dataset folders as on the Hub.
repo = os.path.join(OUT, "repos", "configs")
os.makedirs(os.path.join(repo, "main"))
os.makedirs(os.path.join(repo, "socratic"))
pq.write_table(pa.Table.from_pylist([{"question": "q1", "answer": "a1"}, {"question": "q2", "answer": "a2"}]),
               os.path.join(repo, "main", "train-00000-of-00001.parquet"))
pq.write_table(pa.Table.from_pylist([{"question": "q3", "answer": "a3"}]), os.path.join(repo, "main", "test-00000-of-00001.parquet"))
pq.write_table(pa.Table.from_pylist([{"question": "s1", "answer": "why?"}]), os.path.join(repo, "socratic", "train.parquet"))
with open(os.path.join(repo, "README.md"), "w") as f:
    f.write("---\nconfigs:\n- config_name: main\n  data_files:\n  - split: train\n    path: main/train-*\n"
            "  - split: test\n    path: main/test-*\n- config_name: socratic\n  data_files:\n  - split: train\n"
            "    path: socratic/train.parquet\n---\n# A dataset\n")
repo = os.path.join(OUT, "repos", "sharded")
os.makedirs(os.path.join(repo, "data"))
for split, count in (("train", 2), ("validation", 1)):
    for shard in range(count):
        rows = [{"prompt": f"{split} {shard} {i}"} for i in range(3)]
        pq.write_table(pa.Table.from_pylist(rows), os.path.join(repo, "data", f"{split}-{shard:05d}-of-{count:05d}.parquet"))
repo = os.path.join(OUT, "repos", "jsonl")
os.makedirs(repo)
for split, count in (("train", 3), ("test", 1)):
    with open(os.path.join(repo, f"{split}.jsonl"), "w") as f:
        for i in range(count):
            f.write(json.dumps({"prompt": f"{split} {i}", "answer": str(i)}) + "\n")
repos = {}
for name, config, split in (("configs", "main", "train"), ("configs", "main", "test"), ("configs", "socratic", "train"),
                            ("sharded", None, "train"), ("sharded", None, "validation"), ("jsonl", None, "train"),
                            ("jsonl", None, "test")):
    folder = os.path.join(OUT, "repos", name)
    rows = datasets.load_dataset(folder, config, split=split).to_list()
    repos[f"{name}/{config or ''}/{split}"] = rows
for cache in ("configs", "sharded", "jsonl"):  # load_dataset leaves nothing in the folders, but be sure
    shutil.rmtree(os.path.join(OUT, "repos", cache, ".cache"), ignore_errors=True)

TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "FledgeRLTests", "Fixtures")
for trainer, cases in (("sft", ["messages", "prompt_completion", "conversational_prompt_completion", "text"]),
                       ("dpo", ["messages", "strings"])):
    folder = os.path.join(TESTS, trainer, "parquet")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for case in cases:
        rows = datasets.load_dataset("json", data_files=os.path.join(TESTS, trainer, case + ".jsonl"), split="train")
        rows.to_parquet(os.path.join(folder, case + ".parquet"))

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump({"files": expected, "repos": repos}, f, indent=1, ensure_ascii=False)
print("wrote", len(expected), "files")
