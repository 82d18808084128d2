"""Runs a Fledge benchmark and its PyTorch twin one after the other and prints a Markdown
table of both results and their ratio.

    python3 Scripts/bench/compare.py gemm [ROUNDS]   # fledge bench gemm --json vs torch_gemm.py
    python3 Scripts/bench/compare.py ops [ROUNDS]    # fledge bench ops --json  vs torch_ops.py
    python3 Scripts/bench/compare.py dpo [ROUNDS]    # fledge bench dpo --json  vs trl_dpo.py
    python3 Scripts/bench/compare.py ppo [ROUNDS]    # fledge bench ppo --json  vs trl_ppo.py
    python3 Scripts/bench/compare.py train [ROUNDS] [--modes lora] [--checkpointing false] ...
                                                     # fledge bench train --json vs torch_train.py
    python3 Scripts/bench/compare.py grpo [ROUNDS] [CHECKPOINTING]
                                      # fledge bench grpo --json vs trl_grpo.py (TRL's GRPOTrainer)

Run it from the repository root with a Python that has torch, after
`swift build -c release --product fledge`. For GEMM the ratio is Fledge's GFLOP/s over
PyTorch's (higher is better); for ops, dpo and ppo it is PyTorch's (TRL's) time over Fledge's (higher is better,
so above 1 means Fledge is faster); for training, Fledge's tokens per second over PyTorch's and
PyTorch's peak resident memory over Fledge's (both above 1 where Fledge is ahead), and the
options after ROUNDS go to both training benchmarks (they take the same ones). For GRPO the ratio is
TRL's seconds (or peak memory) over Fledge's, with CHECKPOINTING `true` (TRL's default) or `false`
for gradient checkpointing on both sides. With ROUNDS > 1
(default 3) the two sides run in alternation that many times and each keeps its best result per
line, so that a burst of other work on a shared machine does not decide the ratio.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FLEDGE = os.path.join(HERE, "..", "..", ".build", "release", "fledge")
LOAD_BEFORE = f"{os.getloadavg()[0]:.1f}"


def run(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def best_of(rounds, commands, better):
    """Runs each command `rounds` times in alternation; keeps each line's best result."""
    best = [None] * len(commands)
    for _ in range(rounds):
        for index, command in enumerate(commands):
            lines = run(command)
            best[index] = lines if best[index] is None else [better(a, b) for a, b in zip(best[index], lines)]
    return best


def compare_training(rounds, options):
    """Best tokens per second and lowest peak RSS of each training configuration, side by side."""
    def best(a, b):
        return {**a, "tokens_per_second": max(a["tokens_per_second"], b["tokens_per_second"]),
                "peak_rss_mb": min(a["peak_rss_mb"], b["peak_rss_mb"])}
    ours, theirs = best_of(rounds, [[FLEDGE, "bench", "train", "--json", *options],
                                    [sys.executable, os.path.join(HERE, "torch_train.py"), *options]], best)
    print(f"load average before / after: {LOAD_BEFORE} / {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| mode | gradient checkpointing | Fledge tokens/s | PyTorch tokens/s | speed-up | Fledge peak RSS MB | PyTorch peak RSS MB | memory ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for a, b in zip(ours, theirs):
        assert (a["mode"], a["gradient_checkpointing"]) == (b["mode"], b["gradient_checkpointing"])
        print(f'| {a["mode"]} | {str(a["gradient_checkpointing"]).lower()} | {a["tokens_per_second"]:.1f} | '
              f'{b["tokens_per_second"]:.1f} | {a["tokens_per_second"] / b["tokens_per_second"]:.2f} | '
              f'{a["peak_rss_mb"]:.0f} | {b["peak_rss_mb"]:.0f} | {b["peak_rss_mb"] / a["peak_rss_mb"]:.2f} |')


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else "gemm"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if kind == "gemm":
        ours, theirs = best_of(rounds, [[FLEDGE, "bench", "gemm", "--json"], [sys.executable, os.path.join(HERE, "torch_gemm.py")]],
                               lambda a, b: a if a["gflops"] >= b["gflops"] else b)
        print("| layout | M | N | K | Fledge GFLOP/s | PyTorch GFLOP/s | ratio |")
        print("|---|---|---|---|---|---|---|")
        for a, b in zip(ours, theirs):
            assert (a["layout"], a["m"], a["n"], a["k"]) == (b["layout"], b["m"], b["n"], b["k"])
            print(f'| {a["layout"]} | {a["m"]} | {a["n"]} | {a["k"]} | {a["gflops"]:.1f} | {b["gflops"]:.1f} | {a["gflops"] / b["gflops"]:.2f} |')
    elif kind == "ops":
        fastest = lambda a, b: {**(a if a["ms"] <= b["ms"] else b), **({"peak_mib": min(a["peak_mib"], b["peak_mib"])} if "peak_mib" in a else {})}
        ours, theirs = best_of(rounds, [[FLEDGE, "bench", "ops", "--json"], [sys.executable, os.path.join(HERE, "torch_ops.py")]], fastest)
        print("| op (forward + backward) | Fledge ms | PyTorch ms | speed-up |")
        print("|---|---|---|---|")
        for a, b in zip(ours, theirs):
            assert a["op"] == b["op"]
            print(f'| {a["op"]} | {a["ms"]:.2f} | {b["ms"]:.2f} | {b["ms"] / a["ms"]:.2f} |')
            if "peak_mib" in a:
                print(f'| {a["op"]} peak extra memory | {a["peak_mib"]} MiB | {b["peak_mib"]} MiB | {b["peak_mib"] / a["peak_mib"]:.0f}× less |')
    elif kind in ("dpo", "ppo"):
        fastest = lambda a, b: a if a["step_seconds"] <= b["step_seconds"] else b
        ours, theirs = best_of(rounds, [[FLEDGE, "bench", kind, "--json"], [sys.executable, os.path.join(HERE, f"trl_{kind}.py")]],
                               fastest)
        print(f"| {kind.upper()} step | Fledge | TRL | speed-up |")
        print("|---|---|---|---|")
        for a, b in zip(ours, theirs):
            for key in ("step_seconds", "rollout_seconds", "train_seconds"):
                if key in a:
                    print(f'| {key.replace("_", " ")} | {a[key]:.2f} | {b[key]:.2f} | {b[key] / a[key]:.2f} |')
            print(f'| peak RSS (MB) | {a["peak_rss_mb"]:.0f} | {b["peak_rss_mb"]:.0f} | {b["peak_rss_mb"] / a["peak_rss_mb"]:.2f}× less |')
    elif kind == "train":
        compare_training(rounds, sys.argv[3:])
    elif kind == "grpo":
        checkpointing = sys.argv[3] if len(sys.argv) > 3 else "true"
        fastest = lambda a, b: {**(a if a["step_seconds"] <= b["step_seconds"] else b),
                                "peak_rss_mb": min(a["peak_rss_mb"], b["peak_rss_mb"])}
        (ours,), (theirs,) = best_of(rounds, [
            [FLEDGE, "bench", "grpo", "--json", "--gradient-checkpointing", checkpointing],
            [sys.executable, os.path.join(HERE, "trl_grpo.py"), "--gradient-checkpointing", checkpointing]], fastest)
        print(f"| GRPO step (gradient checkpointing {checkpointing}) | Fledge | TRL | TRL / Fledge |")
        print("|---|---|---|---|")
        for key, label in [("step_seconds", "step, s"), ("generation_seconds", "generation, s"),
                           ("training_seconds", "training, s"), ("forward_seconds", "of which forward, s"),
                           ("peak_rss_mb", "peak RSS, MiB")]:
            print(f"| {label} | {ours[key]:.2f} | {theirs[key]:.2f} | {theirs[key] / ours[key]:.2f} |")
    else:
        sys.exit("usage: compare.py gemm|ops|train|grpo|dpo|ppo [ROUNDS] [options]")


if __name__ == "__main__":
    main()
