#!/usr/bin/env python3
"""Reference learning rates for FledgeNN's schedules and FledgeRL's `lr_scheduler_kwargs`.

    pip install torch transformers
    python3 Scripts/reference/make_schedule_fixtures.py [OUT_FILE]

Writes OUT_FILE (default Tests/FledgeRLTests/Fixtures/schedules.json): a list of cases, each
{"name", "type", "kwargs", "learning_rate", "warmup_steps", "training_steps", "rates"}, where rates[k]
is the learning rate transformers' `get_scheduler(type, optimizer, num_warmup_steps, num_training_steps,
scheduler_specific_kwargs=kwargs)` gives optimizer step k (read from the optimizer before each
`scheduler.step()`, as the Trainer uses it), for k up to two steps past the end. JSON keeps the
float64 values exact.
"""
import json
import os
import sys

import torch
import transformers
from transformers import get_scheduler

OUT = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeRLTests/Fixtures/schedules.json"

# (name, type, kwargs, learning rate, warm-up steps, training steps): every schedule of
# get_scheduler except the metric-driven ones, at its defaults and with each argument it takes.
CASES = [
    ("linear", "linear", {}, 3e-4, 3, 10),
    ("cosine", "cosine", {}, 3e-4, 3, 10),
    ("constant", "constant", {}, 3e-4, 3, 10),
    ("constant_with_warmup", "constant_with_warmup", {}, 3e-4, 3, 10),
    ("cosine_cycles", "cosine", {"num_cycles": 1.5}, 2e-5, 2, 13),
    ("cosine_with_restarts", "cosine_with_restarts", {}, 3e-4, 3, 10),
    ("cosine_with_restarts_3", "cosine_with_restarts", {"num_cycles": 3}, 1e-4, 1, 17),
    ("polynomial", "polynomial", {}, 3e-4, 3, 10),
    ("polynomial_power", "polynomial", {"lr_end": 1e-5, "power": 2.5}, 3e-4, 2, 11),
    ("inverse_sqrt", "inverse_sqrt", {}, 3e-4, 3, 10),
    ("inverse_sqrt_timescale", "inverse_sqrt", {"timescale": 7}, 3e-4, 2, 10),
    ("inverse_sqrt_no_warmup", "inverse_sqrt", {}, 3e-4, 0, 10),
    ("cosine_with_min_lr", "cosine_with_min_lr", {"min_lr": 3e-5}, 3e-4, 3, 10),
    ("cosine_with_min_lr_rate", "cosine_with_min_lr", {"min_lr_rate": 0.2, "num_cycles": 0.75}, 5e-5, 2, 12),
    ("cosine_warmup_with_min_lr", "cosine_warmup_with_min_lr", {"min_lr_rate": 0.1}, 3e-4, 3, 10),
    ("cosine_warmup_with_min_lr_start", "cosine_warmup_with_min_lr",
     {"min_lr": 1e-5, "warmup_lr_rate": 0.25}, 3e-4, 4, 11),
    ("warmup_stable_decay", "warmup_stable_decay", {"num_decay_steps": 4}, 3e-4, 3, 12),
    ("warmup_stable_decay_stable", "warmup_stable_decay",
     {"num_decay_steps": 3, "num_stable_steps": 2, "warmup_type": "cosine", "decay_type": "1-sqrt",
      "min_lr_ratio": 0.1}, 3e-4, 3, 12),
    ("warmup_stable_decay_linear", "warmup_stable_decay",
     {"num_decay_steps": 5, "warmup_type": "1-sqrt", "decay_type": "linear", "min_lr_ratio": 0.05}, 1e-4, 4, 14),
    ("warmup_stable_decay_cycles", "warmup_stable_decay",
     {"num_decay_steps": 6, "num_cycles": 0.25}, 1e-4, 2, 10),
]


def rates(kind, kwargs, lr, warmup, total):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    scheduler = get_scheduler(kind, optimizer, num_warmup_steps=warmup, num_training_steps=total,
                              scheduler_specific_kwargs=dict(kwargs))
    out = []
    for _ in range(total + 2):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return out


def main():
    cases = [{"name": name, "type": kind, "kwargs": kwargs, "learning_rate": lr, "warmup_steps": warmup,
              "training_steps": total, "rates": rates(kind, kwargs, lr, warmup, total)}
             for name, kind, kwargs, lr, warmup, total in CASES]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump({"versions": f"torch {torch.__version__}, transformers {transformers.__version__}",
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases")


if __name__ == "__main__":
    main()
