"""Training curves of `bf16: true` beside float32 on the demo model, as one figure per run.

    python3 Scripts/bench/bf16_curves.py [--fledge .build/release/fledge] [--sft-steps 200] [--sft-batch 64]
                                         [--grpo-steps 250]

Runs, from the repository root, each twice (bf16: false, then true) with the same seed:
- SFT: the random-init demo model and its training data (`fledge demo make-base-model`, which also
  runs the full base-model SFT, unless runs/demo-base/initial-model exists), then
  `fledge sft --config examples/demo/sft.yaml` for --sft-steps steps of --sft-batch examples
  (cosine schedule over them, logged every 10 steps) into runs/bf16-curves/sft-{fp32,bf16};
- GRPO: `fledge demo` (LoRA, Unsloth's defaults, --grpo-steps steps) into runs/bf16-curves/grpo-{fp32,bf16}.

Then writes runs/bf16-curves/{sft,grpo}/metrics.jsonl with each metric of both runs as
`NAME/fp32` and `NAME/bf16` (both in one panel in `fledge plot`), plots them, and prints, as Markdown:
every --table-every steps the SFT loss and the GRPO reward (the mean over those steps, as the reward
of one step is of 8 samples) of both runs; the largest SFT loss difference, the means over the last
50 steps, the held-out evaluations before and after GRPO; and each run's wall and CPU time with the
load average around it.
"""
import argparse
import json
import os
import resource
import time
import subprocess
import sys

OUT = "runs/bf16-curves"


TIMES = []


def run(command, label=None):
    print("+", " ".join(command), flush=True)
    start, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    if label:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        TIMES.append((label, time.monotonic() - start, used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime,
                      load, os.getloadavg()[0]))
    return output


def mean(values):
    return sum(values) / len(values) if values else float("nan")


def records(directory):
    with open(os.path.join(directory, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def merge(name, runs, metrics):
    by_step = {}
    for label, directory in runs:
        for record in records(directory):
            if "step" not in record:
                continue
            row = by_step.setdefault(record["step"], {"step": record["step"]})
            for metric in metrics:
                if metric in record:
                    row[f"{metric}/{label}"] = record[metric]
    target = os.path.join(OUT, name)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "metrics.jsonl"), "w") as f:
        for step in sorted(by_step):
            f.write(json.dumps(by_step[step]) + "\n")
    return target, [by_step[s] for s in sorted(by_step)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fledge", default=".build/release/fledge")
    parser.add_argument("--sft-steps", type=int, default=200)
    parser.add_argument("--sft-batch", type=int, default=64)
    parser.add_argument("--grpo-steps", type=int, default=250)
    parser.add_argument("--table-every", type=int, default=20)
    args = parser.parse_args()
    fledge = args.fledge

    if not os.path.isdir("runs/demo-base/initial-model"):
        run([fledge, "demo", "make-base-model"])
    sft_runs, grpo_runs, evaluations = [], [], {}
    for label, bf16 in [("fp32", "false"), ("bf16", "true")]:
        directory = os.path.join(OUT, f"sft-{label}")
        run([fledge, "sft", "--config", "examples/demo/sft.yaml", "--set", f"max_steps={args.sft_steps}",
             "--set", f"per_device_train_batch_size={args.sft_batch}", "--set", "logging_steps=10", "--set", f"save_steps={args.sft_steps}", "--set", f"output_dir={directory}",
             "--set", "overwrite_output_dir=true", "--set", f"bf16={bf16}"], label=f"SFT {label}")
        sft_runs.append((label, directory))
        directory = os.path.join(OUT, f"grpo-{label}")
        output = run([fledge, "demo", "--json", "--steps", str(args.grpo_steps), "--output-dir", directory,
                      "--set", f"bf16={bf16}", "--set", "overwrite_output_dir=true"], label=f"GRPO {label}")
        evaluations[label] = json.loads(output.strip().splitlines()[-1])
        grpo_runs.append((label, directory))

    sft, sft_rows = merge("sft", sft_runs, ["loss", "grad_norm"])
    grpo, grpo_rows = merge("grpo", grpo_runs, ["reward", "loss", "kl", "grad_norm"])
    for directory in [sft, grpo]:
        print(run([fledge, "plot", directory]).strip())
    every = args.table_every
    sft_by_step = {row["step"]: row for row in sft_rows}
    grpo_by_step = {row["step"]: row for row in grpo_rows}

    def reward_mean(label, last, count):
        return mean([grpo_by_step[s][f"reward/{label}"] for s in range(last - count + 1, last + 1)
                     if f"reward/{label}" in grpo_by_step.get(s, {})])

    print(f"\n| step | SFT loss fp32 | SFT loss bf16 | GRPO reward fp32 (mean of {every} steps) | GRPO reward bf16 |")
    print("|---|---|---|---|---|")
    last_step = max(args.sft_steps, args.grpo_steps)
    for step in list(range(every, last_step + 1, every)) + ([last_step] if last_step % every else []):
        sft_row = sft_by_step.get(step, {})
        cells = [f"{sft_row[f'loss/{label}']:.4f}" if f"loss/{label}" in sft_row else "" for label in ("fp32", "bf16")]
        cells += [f"{reward_mean(label, step, every):.3f}" if step <= args.grpo_steps else "" for label in ("fp32", "bf16")]
        print(f"| {step} | " + " | ".join(cells) + " |")

    both = [row for row in sft_rows if "loss/fp32" in row and "loss/bf16" in row]
    worst = max(both, key=lambda row: abs(row["loss/fp32"] - row["loss/bf16"]))
    print(f"\nSFT, {len(both)} logged steps: largest |loss bf16 - loss fp32| {abs(worst['loss/fp32'] - worst['loss/bf16']):.4f} "
          f"(step {worst['step']}), mean |difference| {mean([abs(r['loss/fp32'] - r['loss/bf16']) for r in both]):.4f}")
    tail = [row for row in both if row["step"] > args.sft_steps - 50]
    print(f"SFT mean loss over the last 50 steps (logged steps {tail[0]['step']}-{tail[-1]['step']}): "
          f"fp32 {mean([r['loss/fp32'] for r in tail]):.4f}, bf16 {mean([r['loss/bf16'] for r in tail]):.4f}")
    print(f"GRPO mean reward over the last 50 steps: fp32 {reward_mean('fp32', args.grpo_steps, 50):.3f}, "
          f"bf16 {reward_mean('bf16', args.grpo_steps, 50):.3f}; over all {args.grpo_steps}: "
          f"fp32 {reward_mean('fp32', args.grpo_steps, args.grpo_steps):.3f}, bf16 {reward_mean('bf16', args.grpo_steps, args.grpo_steps):.3f}")
    for label, result in evaluations.items():
        print(f"GRPO demo {label}: held-out accuracy {result['before']['accuracy'] * 100:.1f} % -> {result['after']['accuracy'] * 100:.1f} %, "
              f"mean reward {result['before']['mean_reward']:.3f} -> {result['after']['mean_reward']:.3f}")
    for label, wall, cpu, load_before, load_after in TIMES:
        print(f"{label}: {wall:.0f} s wall, {cpu:.0f} s CPU, load average {load_before:.1f} before, {load_after:.1f} after")

if __name__ == "__main__":
    sys.exit(main())
