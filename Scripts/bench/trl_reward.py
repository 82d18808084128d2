"""One reward-modelling step of TRL's RewardTrainer on the shapes and settings of `fledge bench reward`.

    python3 Scripts/bench/trl_reward.py [--pairs 8] [--tokens 128] [--runs 2]
                                  [--gradient-checkpointing false|true]

The SmolLM2-135M-shaped Llama of `torch_train.py` as a one-label `LlamaForSequenceClassification` (random
weights, float32) with PEFT LoRA adapters (r=16, lora_alpha 32, dropout 0) on every linear layer of the
decoder and the `score` head trained beside them (task type SEQ_CLS), handed to TRL's `RewardTrainer` (TRL
1.16 defaults: lr 1e-4, no weight decay). One step is the trainer's own collation of `pairs` pre-tokenized
pairs (a chosen and a rejected sequence of `tokens` tokens), `training_step` (both through the model as one
batch, the Bradley-Terry loss and backward), gradient clipping to norm 1 and the trainer's AdamW step. Prints
one JSON line: {"step_seconds", "peak_rss_mb", ...}, the fastest of `--runs` timed steps after a warm-up step,
and the process's peak resident memory. The tokenizer (needed by the trainer for its pad token only) is the
tiny test fixture's.
"""
import argparse
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification
from trl import RewardConfig, RewardTrainer

from torch_train import LINEAR_MODULES, SMOLLM2_135M
from trl_step import TOKENIZER, fastest_step, report, token_ids

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--gradient-checkpointing", choices=["true", "false"], default="false")
    args = parser.parse_args()
    torch.manual_seed(1)
    model = LlamaForSequenceClassification(LlamaConfig(**SMOLLM2_135M, num_labels=1))
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LINEAR_MODULES, task_type="SEQ_CLS")
    config = RewardConfig(output_dir=tempfile.mkdtemp(), report_to=[], per_device_train_batch_size=args.pairs, bf16=False,
                          use_cpu=True, max_length=None, gradient_checkpointing=args.gradient_checkpointing == "true")
    trainer = RewardTrainer(model=model, args=config, processing_class=AutoTokenizer.from_pretrained(TOKENIZER),
                            train_dataset=Dataset.from_list([{"chosen": "b", "rejected": "c"}]), peft_config=lora)
    ids = token_ids(2 * args.pairs, args.tokens)
    examples = [{"chosen_ids": ids[i], "rejected_ids": ids[args.pairs + i]} for i in range(args.pairs)]
    best = fastest_step(trainer, lambda: trainer.training_step(trainer.model, trainer.data_collator(examples)), args.runs,
                        "reward", gradient_checkpointing=args.gradient_checkpointing == "true")
    report({"pairs": args.pairs, "tokens": args.tokens, "gradient_checkpointing": args.gradient_checkpointing == "true"}, best)


if __name__ == "__main__":
    main()
