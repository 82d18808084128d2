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
`NAME/fp32` and `NAME/bf16` (one panel each in `fledge plot`), plots them, and prints a table of
the SFT loss and the GRPO reward at a few steps and the two demo evaluations.
"""
import argparse
import json
import os
import subprocess
import sys

OUT = "runs/bf16-curves"


def run(command):
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


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
    args = parser.parse_args()
    fledge = args.fledge

    if not os.path.isdir("runs/demo-base/initial-model"):
        run([fledge, "demo", "make-base-model"])
    sft_runs, grpo_runs, evaluations = [], [], {}
    for label, bf16 in [("fp32", "false"), ("bf16", "true")]:
        directory = os.path.join(OUT, f"sft-{label}")
        run([fledge, "sft", "--config", "examples/demo/sft.yaml", "--set", f"max_steps={args.sft_steps}",
             "--set", f"per_device_train_batch_size={args.sft_batch}", "--set", "logging_steps=10", "--set", f"save_steps={args.sft_steps}", "--set", f"output_dir={directory}",
             "--set", "overwrite_output_dir=true", "--set", f"bf16={bf16}"])
        sft_runs.append((label, directory))
        directory = os.path.join(OUT, f"grpo-{label}")
        output = run([fledge, "demo", "--json", "--steps", str(args.grpo_steps), "--output-dir", directory,
                      "--set", f"bf16={bf16}", "--set", "overwrite_output_dir=true"])
        evaluations[label] = json.loads(output.strip().splitlines()[-1])
        grpo_runs.append((label, directory))

    sft, sft_rows = merge("sft", sft_runs, ["loss", "grad_norm"])
    grpo, grpo_rows = merge("grpo", grpo_runs, ["reward", "loss", "kl", "grad_norm"])
    for directory in [sft, grpo]:
        print(run([fledge, "plot", directory]).strip())
    print("\nSFT loss (step: fp32 / bf16)")
    for row in sft_rows[:: max(1, len(sft_rows) // 10)] + sft_rows[-1:]:
        print(f"  {row['step']:4d}: {row.get('loss/fp32', float('nan')):.4f} / {row.get('loss/bf16', float('nan')):.4f}")
    print("GRPO reward (step: fp32 / bf16)")
    for row in grpo_rows[:: max(1, len(grpo_rows) // 10)] + grpo_rows[-1:]:
        print(f"  {row['step']:4d}: {row.get('reward/fp32', float('nan')):.4f} / {row.get('reward/bf16', float('nan')):.4f}")
    for label, result in evaluations.items():
        print(f"GRPO demo {label}: before {json.dumps(result['before'])}  after {json.dumps(result['after'])}")


if __name__ == "__main__":
    sys.exit(main())
