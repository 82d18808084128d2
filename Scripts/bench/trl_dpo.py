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
import json
import os
import resource
import tempfile
import time

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from trl import DPOConfig, DPOTrainer

from torch_train import LINEAR_MODULES, SMOLLM2_135M

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOKENIZER = os.path.join(ROOT, "Tests", "FledgeRLTests", "Fixtures", "sft", "model")


def token_ids(rows, length):
    return [[(t * 7919 + row * 104729 + 17) % 49152 for t in range(length)] for row in range(rows)]


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
    trainer.create_optimizer()
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train's loop, which this bypasses
    parameters = [p for p in trainer.model.parameters() if p.requires_grad]
    best = float("inf")
    for run in range(args.runs + 1):
        start = time.perf_counter()
        loss = trainer.training_step(trainer.model, trainer.data_collator(examples))
        torch.nn.utils.clip_grad_norm_(parameters, config.max_grad_norm)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - start
        assert torch.isfinite(loss), f"the DPO loss is {loss}"
        if run > 0:
            best = min(best, seconds)
    print(json.dumps({"pairs": args.pairs, "prompt_tokens": args.prompt_tokens, "completion_tokens": args.completion_tokens,
                      "step_seconds": round(best, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
