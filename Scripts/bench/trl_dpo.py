"""One DPO step of TRL's DPOTrainer on the shapes and settings of `fledge bench dpo`.

    python3 Scripts/bench/trl_dpo.py [--pairs 8] [--prompt-tokens 64] [--completion-tokens 64] [--runs 2]

The SmolLM2-135M-shaped Llama of `torch_train.py` (random weights, float32) with PEFT LoRA adapters
(r=16, lora_alpha 32, dropout 0) on every linear layer of the decoder, handed to TRL's `DPOTrainer`
(TRL 1.16 defaults: sigmoid loss, beta 0.1, lr 1e-6, no weight decay; the reference is the model with
its adapters disabled). One step is the trainer's own collation of `pairs` pre-tokenized pairs (a
prompt followed by a chosen and a rejected completion), `training_step` (the reference log-probs,
the chosen and rejected sequences through the model, the loss and backward), gradient clipping to norm
1 and the trainer's AdamW step. Prints one JSON line: {"step_seconds", "peak_rss_mb", ...}, the fastest
of `--runs` timed steps after a warm-up step, and the process's peak resident memory. The tokenizer
(needed by the trainer for its pad token only) is the tiny test fixture's.
"""
import argparse
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from trl import DPOConfig, DPOTrainer

from torch_train import LINEAR_MODULES, SMOLLM2_135M
from trl_step import TOKENIZER, fastest_step, report, token_ids

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=64)
    parser.add_argument("--completion-tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(1)
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LINEAR_MODULES, task_type="CAUSAL_LM")
    config = DPOConfig(output_dir=tempfile.mkdtemp(), report_to=[], per_device_train_batch_size=args.pairs, bf16=False,
                       use_cpu=True, max_length=None, gradient_checkpointing=False)
    trainer = DPOTrainer(model=model, args=config, processing_class=AutoTokenizer.from_pretrained(TOKENIZER),
                         train_dataset=Dataset.from_list([{"prompt": "a", "chosen": "b", "rejected": "c"}]), peft_config=lora)
    ids, split = token_ids(2 * args.pairs, args.prompt_tokens + args.completion_tokens), args.prompt_tokens
    examples = [{"prompt_ids": ids[i][:split], "chosen_ids": ids[i][split:], "rejected_ids": ids[args.pairs + i][split:]}
                for i in range(args.pairs)]
    best = fastest_step(trainer, lambda: trainer.training_step(trainer.model, trainer.data_collator(examples)), args.runs,
                        "DPO")
    report({"pairs": args.pairs, "prompt_tokens": args.prompt_tokens, "completion_tokens": args.completion_tokens}, best)


if __name__ == "__main__":
    main()
