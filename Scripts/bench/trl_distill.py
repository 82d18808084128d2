"""The training half of one on-policy distillation step of TRL's DistillationTrainer on the shapes and
settings of `fledge bench distill`.

    python3 Scripts/bench/trl_distill.py [--rows 8] [--prompt-tokens 64] [--completion-tokens 64] [--runs 2]
                                  [--gradient-checkpointing false|true]

The student is the SmolLM2-135M-shaped Llama of `torch_train.py` (random weights, float32) with PEFT LoRA
adapters (r=16, lora_alpha 32, dropout 0) on every linear layer of the decoder; the teacher a second model
of the same shape with other random weights, frozen; both handed to TRL's `DistillationTrainer` (TRL 1.16
defaults: beta 1, the reverse KL, temperature 1, lr 1e-6, no weight decay). One step is the trainer's
`compute_loss` of `rows` sampled rows as its generation batch hands them over (a prompt of `prompt-tokens`
and a completion of `completion-tokens` tokens, `num_items_in_batch` the completion tokens): the
student's forward, the teacher's no-grad forward, the generalized JSD in chunks over positions and
vocabulary; then backward, gradient clipping to norm 1 and the trainer's AdamW step. The student's
sampling is left out (it is the generation that `Scripts/bench/compare generate`/`grpo` measure), so the
completions are fixed token ids. Prints one JSON line: {"step_seconds", "peak_rss_mb", ...}, the fastest
of `--runs` timed steps after a warm-up step, and the process's peak resident memory. The tokenizer
(needed by the trainer for its pad token only) is the tiny test fixture's.
"""
import argparse
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from trl import DistillationConfig, DistillationTrainer

from torch_train import LINEAR_MODULES, SMOLLM2_135M
from trl_step import TOKENIZER, fastest_step, report, token_ids


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--completion-tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--gradient-checkpointing", choices=["true", "false"], default="false")
    args = parser.parse_args()
    torch.manual_seed(1)
    student = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    teacher = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LINEAR_MODULES, task_type="CAUSAL_LM")
    config = DistillationConfig(output_dir=tempfile.mkdtemp(), report_to=[], per_device_train_batch_size=args.rows, bf16=False,
                                use_cpu=True, gradient_checkpointing=args.gradient_checkpointing == "true", max_completion_length=args.completion_tokens)
    trainer = DistillationTrainer(model=student, teacher_model=teacher, args=config,
                                  processing_class=AutoTokenizer.from_pretrained(TOKENIZER),
                                  train_dataset=Dataset.from_list([{"prompt": "a"}] * args.rows), peft_config=lora)
    ids, split = token_ids(args.rows, args.prompt_tokens + args.completion_tokens), args.prompt_tokens
    prompt_ids = torch.tensor([row[:split] for row in ids])
    completion_ids = torch.tensor([row[split:] for row in ids])
    inputs = {"prompt_ids": prompt_ids, "prompt_mask": torch.ones_like(prompt_ids),
              "completion_ids": completion_ids, "completion_mask": torch.ones_like(completion_ids),
              "num_items_in_batch": torch.tensor(completion_ids.numel())}

    def loss_and_backward():
        loss = trainer.compute_loss(trainer.model, inputs)
        trainer.accelerator.backward(loss)
        return loss

    best = fastest_step(trainer, loss_and_backward, args.runs, "distillation",
                        gradient_checkpointing=args.gradient_checkpointing == "true")
    report({"rows": args.rows, "prompt_tokens": args.prompt_tokens, "completion_tokens": args.completion_tokens,
            "gradient_checkpointing": args.gradient_checkpointing == "true"}, best)


if __name__ == "__main__":
    main()
