#!/usr/bin/env bash
# Data-parallel GRPO: one process versus `mpirun -np 2`, each process single-threaded, with the same
# global batch (one process accumulates 2 micro-batches, each of the two processes 1), plus one
# process with 2 threads for comparison. Prints seconds per optimizer step (steps 2…N, from
# metrics.jsonl), the scaling efficiency T1 / (2 · T2), the CPU seconds per step of all processes
# together (a run of N steps minus a run of 1 step, so start-up is left out), and the time per step
# the processes spent in collectives (`communication_seconds`, waiting included). On a machine that
# other work keeps busy, wall times cannot show a speed-up; the CPU seconds per step still show the
# work a second process adds (CPU-time efficiency = CPU of one process / CPU of two).
#
#   Scripts/bench/data_parallel.sh [FLEDGE] [TRIALS]
#
# FLEDGE defaults to .build/release/fledge; MODEL=demo (examples/demo/model, 0.5 M parameters) or
# MODEL=wide (a random-init model of the demo's vocabulary, hidden 512, 8 layers, 25 M parameters;
# needs python3 with numpy and safetensors, or PYTHON=...). BATCH completions per micro-batch
# (default 32), STEPS steps per run (default 6). Trials interleave the configurations, so a
# machine whose load changes affects them alike; the median trial is reported.
set -euo pipefail
cd "$(dirname "$0")/../.."
fledge=$(realpath "${1:-.build/release/fledge}")
trials=${2:-3}
model=${MODEL:-demo}
batch=${BATCH:-32}
steps=${STEPS:-6}
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

model_dir=$(realpath examples/demo/model)
if [ "$model" = wide ]; then
  model_dir="$work/wide"
  mkdir -p "$model_dir"
  cp examples/demo/model/tokenizer.json examples/demo/model/tokenizer_config.json \
     examples/demo/model/generation_config.json "$model_dir/"
  "$python" - "$model_dir" <<'EOF'
import json, sys
import numpy as np
from safetensors.numpy import save_file
out = sys.argv[1]
hidden, inter, layers, heads, kv, vocab = 512, 1408, 8, 8, 4, 14
head = hidden // heads
config = json.load(open("examples/demo/model/config.json"))
config.update(hidden_size=hidden, intermediate_size=inter, num_hidden_layers=layers,
              num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=64)
json.dump(config, open(f"{out}/config.json", "w"), indent=2)
rng = np.random.default_rng(0)
w = lambda *shape: (rng.standard_normal(shape) * 0.02).astype(np.float32)
tensors = {"model.embed_tokens.weight": w(vocab, hidden), "model.norm.weight": np.ones(hidden, np.float32)}
for i in range(layers):
    p = f"model.layers.{i}."
    tensors.update({
        p + "self_attn.q_proj.weight": w(heads * head, hidden), p + "self_attn.k_proj.weight": w(kv * head, hidden),
        p + "self_attn.v_proj.weight": w(kv * head, hidden), p + "self_attn.o_proj.weight": w(hidden, heads * head),
        p + "mlp.gate_proj.weight": w(inter, hidden), p + "mlp.up_proj.weight": w(inter, hidden),
        p + "mlp.down_proj.weight": w(hidden, inter),
        p + "input_layernorm.weight": np.ones(hidden, np.float32),
        p + "post_attention_layernorm.weight": np.ones(hidden, np.float32)})
save_file(tensors, f"{out}/model.safetensors", metadata={"format": "pt"})
EOF
fi

"$python" - "$work/prompts.jsonl" <<'EOF'
import json, random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    for _ in range(256):
        a, b = random.randint(0, 99), random.randint(0, 99)
        f.write(json.dumps({"prompt": f"{a}+{b}=", "answer": str(a + b)}) + "\n")
EOF
cat > "$work/grpo.yaml" <<EOF
trainer: grpo
model_name_or_path: $model_dir
dataset_name: $work/prompts.jsonl
use_peft: true
lora_target_modules: all-linear
reward_funcs: [answer]
per_device_train_batch_size: $batch
num_generations: 8
max_completion_length: 8
learning_rate: 0.003
beta: 0.001
loss_type: dapo
logging_steps: 1
save_strategy: "no"
max_steps: $steps
gradient_checkpointing: false
EOF

# train NAME THREADS PROCESSES ACCUMULATION STEPS: one run; its CPU seconds go to $work/time.
train() {
  local name=$1 threads=$2 processes=$3 accumulation=$4 max_steps=$5
  rm -rf "${work:?}/$name"
  local launch=("$fledge")
  [ "$processes" -gt 1 ] && launch=(mpirun -np "$processes" --oversubscribe -x FLEDGE_NUM_THREADS "$fledge")
  FLEDGE_NUM_THREADS=$threads /usr/bin/time -f "%U %S" -o "$work/time" "${launch[@]}" grpo --config "$work/grpo.yaml" \
    --set gradient_accumulation_steps="$accumulation" --set max_steps="$max_steps" --set output_dir="$work/$name" \
    > /dev/null 2> "$work/log" || { cat "$work/log" >&2; exit 1; }
}

# run NAME THREADS PROCESSES ACCUMULATION: one trial; appends "name seconds_per_step cpu_per_step communication".
run() {
  train "$@" 1
  cp "$work/time" "$work/time-short"
  train "$@" "$steps"
  "$python" - "$work/$1/metrics.jsonl" "$work/time-short" "$work/time" "$1" >> "$work/results" <<'EOF'
import json, sys
records = [json.loads(line) for line in open(sys.argv[1])]
cpu = [sum(map(float, open(name).read().split()[-2:])) for name in sys.argv[2:4]]
per_step = (records[-1]["elapsed_seconds"] - records[0]["elapsed_seconds"]) / (len(records) - 1)
communication = [r["communication_seconds"] for r in records[1:] if "communication_seconds" in r]
print(sys.argv[4], per_step, (cpu[1] - cpu[0]) / (len(records) - 1),
      sum(communication) / len(communication) if communication else 0)
EOF
}

echo "model $model, $batch completions per micro-batch, global batch $((2 * batch)), $steps steps, $trials trials; load $(cut -d' ' -f1-3 /proc/loadavg)"
for trial in $(seq "$trials"); do
  run one-process 1 1 2
  run two-processes 1 2 1
  run one-process-two-threads 2 1 2
done
echo "load after $(cut -d' ' -f1-3 /proc/loadavg)"
"$python" - "$work/results" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    name, step, cpu, communication = line.split()
    rows.setdefault(name, []).append((float(step), float(cpu), float(communication)))
median = {name: sorted(values)[len(values) // 2] for name, values in rows.items()}
print(f"{'run':26} {'s/step (median)':>15} {'all trials':>24} {'CPU s/step':>10} {'comm s/step':>11}")
for name, (step, cpu, communication) in median.items():
    trials = " ".join(f"{value[0]:.3f}" for value in rows[name])
    print(f"{name:26} {step:15.3f} {trials:>24} {cpu:10.3f} {communication:11.4f}")
one, two = median["one-process"], median["two-processes"]
print(f"speed-up of two processes {one[0] / two[0]:.2f}x, scaling efficiency {one[0] / (2 * two[0]):.0%}; "
      f"CPU-time efficiency {one[1] / two[1]:.0%}")
EOF
