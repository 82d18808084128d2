"""TRL's GRPOTrainer on the shapes and settings of `fledge bench grpo`.

    python3 Scripts/bench/trl_grpo.py [--steps 3] [--gradient-checkpointing true|false] [--setting short|long]
                                      [--threads N]

A SmolLM2-135M-shaped Llama (hidden 576, 30 layers, 9 heads, 3 KV heads, MLP 1536, vocabulary
49152, tied embeddings) with random float32 weights, PEFT LoRA r=16, lora_alpha 32, dropout 0 on
every linear layer of the decoder, on the CPU. Each optimizer step takes the setting's prompts
(short: one prompt of 32 tokens; long: four prompts of 160 tokens) and samples num_generations 8
completions of each, of exactly the setting's length (short: 64 tokens, long: 256; EOS suppressed
with generation_kwargs min_new_tokens, so every completion is full length) at temperature 1, scored
by a cheap text reward (the share of characters with an even code point);
per_device_train_batch_size 8, gradient_accumulation_steps 1 (short) or 4 (long), beta 0, loss_type dapo, GRPOConfig's other defaults (AdamW,
gradient checkpointing on unless --gradient-checkpointing false), bf16 off. The tokenizer has one
token per character (ids 0 and 1 are <pad> and <eos>, then code points from U+20000), the same as
Fledge's, so prompts and completions are text on both sides.

Prints one JSON line: {"step_seconds", "generation_seconds", "training_seconds",
"forward_seconds", "step_cpu_seconds", "generation_cpu_seconds", "peak_rss_mb", "gradient_checkpointing",
"threads", "setting"} for the fastest of `--steps` timed optimizer steps after a warm-up step (`--steps 0`:
the warm-up step alone, as `fledge bench grpo --steps 0`, for a setting too slow to run twice): step time
from one step's end to the next, generation the time in `_generate_and_score_completions` (sampling,
decoding, rewards, advantages), training the rest (forward in `compute_loss`, backward, clipping,
optimizer); the CPU time (user + system, all threads) of the timed step that took the least of it and
of its generation, the steadier measure of work on a shared machine (best with `--threads 1`); and the
process's peak resident memory. `--threads` sets torch's intra-op threads (default: torch's choice).
"""
import argparse
import json
import resource
import tempfile
import time

import torch
from datasets import Dataset
from peft import LoraConfig
from tokenizers import AddedToken, Tokenizer, decoders, models
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, PrinterCallback, TrainerCallback
from trl import GRPOConfig, GRPOTrainer

SMOLLM2_135M = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5,
                    rope_theta=100000.0, tie_word_embeddings=True, hidden_act="silu",
                    bos_token_id=None, eos_token_id=None, pad_token_id=0)
LINEAR_MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
NUM_GENERATIONS = 8
# Per setting: prompts per optimizer step, prompt tokens, completion tokens (as `fledge bench grpo --setting`).
SETTINGS = {"short": (1, 32, 64), "long": (4, 160, 256)}
ALPHABET = [chr(0x20000 + i) for i in range(49150)]


def character_tokenizer():
    """One token per character of ALPHABET (ids 2 …), <pad> 0 and <eos> 1: Fledge's CharacterTokenizerFile."""
    vocab = {"<pad>": 0, "<eos>": 1, **{character: index + 2 for index, character in enumerate(ALPHABET)}}
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tokenizer.decoder = decoders.Fuse()
    tokenizer.add_special_tokens([AddedToken("<pad>", special=True), AddedToken("<eos>", special=True)])
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>")


def prompts(count, length):
    return ["".join(ALPHABET[(t * 7919 + row * 104729 + 17) % len(ALPHABET)] for t in range(length))
            for row in range(count)]


def even_code_points(completions, **kwargs):
    return [sum(ord(character) % 2 == 0 for character in text) / max(len(text), 1) for text in completions]


class StepClock(TrainerCallback):
    """Wall time from one optimizer step's end to the next (the first from the start of training)."""

    def __init__(self):
        self.step_seconds, self.step_cpu_seconds, self.last, self.last_cpu = [], [], None, None

    def on_train_begin(self, args, state, control, **kwargs):
        self.last, self.last_cpu = time.perf_counter(), time.process_time()

    def on_step_end(self, args, state, control, **kwargs):
        now, now_cpu = time.perf_counter(), time.process_time()
        self.step_seconds.append(now - self.last)
        self.step_cpu_seconds.append(now_cpu - self.last_cpu)
        self.last, self.last_cpu = now, now_cpu


class StepSplit:
    """Per optimizer step, the seconds in `_generate_and_score_completions` and in `compute_loss`;
    checks that every completion is full length."""

    def __init__(self, trainer, completion_tokens):
        self.generation, self.generation_cpu, self.forward, self.completion_tokens = [], [], [], completion_tokens
        self.generate_and_score, self.compute_loss = trainer._generate_and_score_completions, trainer.compute_loss
        trainer._generate_and_score_completions, trainer.compute_loss = self.timed_generation, self.timed_loss

    def timed_generation(self, inputs):
        start, start_cpu = time.perf_counter(), time.process_time()
        output = self.generate_and_score(inputs)
        self.generation.append(time.perf_counter() - start)
        self.generation_cpu.append(time.process_time() - start_cpu)
        self.forward.append(0.0)
        lengths = output["completion_mask"].sum(dim=1).tolist()
        assert lengths == [self.completion_tokens] * len(lengths), f"completions are not all full length: {lengths}"
        return output

    def timed_loss(self, *args, **kwargs):
        start = time.perf_counter()
        loss = self.compute_loss(*args, **kwargs)
        self.forward[-1] += time.perf_counter() - start
        return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--gradient-checkpointing", choices=["true", "false"], default="true")
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="short")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.steps < 0:
        parser.error(f"--steps must be 0 or more, got {args.steps}")
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    checkpointing = args.gradient_checkpointing == "true"
    prompt_count, prompt_tokens, completion_tokens = SETTINGS[args.setting]

    torch.manual_seed(1)
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    tokenizer = character_tokenizer()
    dataset = Dataset.from_dict({"prompt": prompts((args.steps + 1) * prompt_count, prompt_tokens)})
    assert all(len(tokenizer(text)["input_ids"]) == prompt_tokens for text in dataset["prompt"])
    with tempfile.TemporaryDirectory() as output:
        config = GRPOConfig(
            output_dir=output, per_device_train_batch_size=NUM_GENERATIONS, gradient_accumulation_steps=prompt_count,
            num_generations=NUM_GENERATIONS, max_completion_length=completion_tokens,
            generation_kwargs={"min_new_tokens": completion_tokens}, temperature=1.0, beta=0.0, loss_type="dapo",
            max_steps=args.steps + 1, logging_steps=args.steps + 1, save_strategy="no", report_to="none",
            bf16=False, use_cpu=True, gradient_checkpointing=checkpointing, disable_tqdm=True)
        trainer = GRPOTrainer(
            model=model, reward_funcs=even_code_points, args=config, train_dataset=dataset, processing_class=tokenizer,
            peft_config=LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LINEAR_MODULES,
                                   task_type="CAUSAL_LM"))
        clock, split = StepClock(), StepSplit(trainer, completion_tokens)
        trainer.add_callback(clock)
        trainer.remove_callback(PrinterCallback)  # the JSON line below is the only output
        trainer.train()

    timed = range(0 if args.steps == 0 else 1, len(clock.step_seconds))
    fastest = min(timed, key=lambda index: clock.step_seconds[index])
    step, generation, forward = clock.step_seconds[fastest], split.generation[fastest], split.forward[fastest]
    leanest = min(timed, key=lambda index: clock.step_cpu_seconds[index])
    print(json.dumps({
        "step_seconds": round(step, 3), "generation_seconds": round(generation, 3),
        "training_seconds": round(step - generation, 3), "forward_seconds": round(forward, 3),
        "step_cpu_seconds": round(clock.step_cpu_seconds[leanest], 3),
        "generation_cpu_seconds": round(split.generation_cpu[leanest], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 3),
        "gradient_checkpointing": checkpointing, "threads": torch.get_num_threads(),
        "setting": args.setting}))


if __name__ == "__main__":
    main()
