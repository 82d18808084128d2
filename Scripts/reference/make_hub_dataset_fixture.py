"""Writes the tiny Parquet dataset that HubEndToEndTests serves from its fake Hub as a dataset repo.

Run: /tmp/refvenv/bin/python Scripts/reference/make_hub_dataset_fixture.py
Writes Tests/FledgeRLTests/Fixtures/hub/train-00000-of-00001.parquet: 8 of the demo's arithmetic
problems (`prompt` "a+b=", `answer` the sum as text), as pyarrow writes them by default (Snappy,
dictionary encoding), the way `datasets.push_to_hub` stores a split.
"""
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OUT = Path(__file__).resolve().parents[2] / "Tests/FledgeRLTests/Fixtures/hub/train-00000-of-00001.parquet"
PAIRS = [(37, 58), (12, 9), (40, 44), (8, 77), (61, 25), (3, 3), (19, 82), (50, 47)]

table = pa.table({"prompt": [f"{a}+{b}=" for a, b in PAIRS], "answer": [str(a + b) for a, b in PAIRS]})
OUT.parent.mkdir(parents=True, exist_ok=True)
pq.write_table(table, OUT)
print(OUT, OUT.stat().st_size, "bytes")
