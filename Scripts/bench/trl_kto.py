"""One KTO step of TRL's KTOTrainer on the shapes and settings of `fledge bench kto`.

    python3 Scripts/bench/trl_kto.py [--rows 8] [--prompt-tokens 64] [--completion-tokens 64] [--runs 2]
                                  [--gradient-checkpointing false|true]

The SmolLM2-135M-shaped Llama of `torch_train.py` (random weights, float32) with PEFT LoRA adapters
(r=16, lora_alpha 32, dropout 0) on every linear layer of the decoder, handed to TRL's `KTOTrainer`
(TRL 1.16 defaults: the `kto` loss, beta 0.1, desirable and undesirable weights 1, lr 1e-6, no weight
decay; the reference is the model with its adapters disabled). One step is the trainer's own collation
of `rows` pre-tokenized rows (a prompt followed by a completion; rows alternate desirable and
undesirable; each row's KL completion is the previous row's, rotated within the batch as TRL's dataset
map builds them), `training_step` (the policy's no-grad pass over the KL sequences, the policy's pass
over the rows, the reference's over both, the loss and backward), gradient clipping to norm 1 and the
trainer's AdamW step. Prints one JSON line: {"step_seconds", "peak_rss_mb", ...}, the fastest of
`--runs` timed steps after a warm-up step, and the process's peak resident memory. The tokenizer
(needed by the trainer for its pad token only) is the tiny test fixture's.
"""
import argparse
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from trl import KTOConfig, KTOTrainer

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
    model = LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M))
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LINEAR_MODULES, task_type="CAUSAL_LM")
    config = KTOConfig(output_dir=tempfile.mkdtemp(), report_to=[], per_device_train_batch_size=args.rows, bf16=False,
                       use_cpu=True, max_length=None, gradient_checkpointing=args.gradient_checkpointing == "true")
    dataset = Dataset.from_list([{"prompt": "a", "completion": "b", "label": True}, {"prompt": "a", "completion": "c", "label": False}])
    trainer = KTOTrainer(model=model, args=config, processing_class=AutoTokenizer.from_pretrained(TOKENIZER),
                         train_dataset=dataset, peft_config=lora)
    ids, split = token_ids(args.rows, args.prompt_tokens + args.completion_tokens), args.prompt_tokens
    completions = [row[split:] for row in ids]
    examples = [{"prompt_ids": ids[i][:split], "completion_ids": completions[i], "KL_completion_ids": completions[i - 1],
                 "label": i % 2 == 0} for i in range(args.rows)]
    best = fastest_step(trainer, lambda: trainer.training_step(trainer.model, trainer.data_collator(examples)), args.runs,
                        "KTO", gradient_checkpointing=args.gradient_checkpointing == "true")
    report({"rows": args.rows, "prompt_tokens": args.prompt_tokens, "completion_tokens": args.completion_tokens,
            "gradient_checkpointing": args.gradient_checkpointing == "true"}, best)


if __name__ == "__main__":
    main()
