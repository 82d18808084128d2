"""What TRL's DPOTrainer makes of small preference datasets and one training batch, for Fledge's DPO tests.

    python3 Scripts/reference/make_dpo_trainer_fixtures.py [OUT_DIR]

Uses the tiny Qwen2 model and ChatML tokenizer of the SFT fixtures (Tests/FledgeRLTests/Fixtures/sft/model,
written by make_sft_fixtures.py) and writes, under OUT_DIR (default Tests/FledgeRLTests/Fixtures/dpo):

- `<case>.jsonl`: the rows of each tokenization case (prompt/chosen/rejected strings, with and without the EOS
  already there; chat messages; `max_length` truncation with keep_start, dropping a row whose prompt fills it,
  and keep_end), and in `expected.json` per case the DPOConfig fields used and, per kept row, the chosen and
  rejected training sequences as `DataCollatorForPreference` builds them (`input_ids`) with their
  `completion_mask`;
- the `full` and `lora` steps: one batch of three pairs through `DPOTrainer.compute_loss` and `backward()`:
  - `full`: full fine-tuning, `loss_type: [sigmoid]`, the reference a frozen copy of the model;
  - `lora`: LoRA on q/v/down projections with random non-zero A and B (written to `lora_adapter/`, so the policy
    differs from the reference, which is the base model with the adapters disabled), `loss_type: [sigmoid, sft]`
    with `loss_weights: [1, 0.5]` and `ld_alpha: 0.7`;
  - `weighted`: the same adapter, `loss_type: [sigmoid]` with WPO weighting (`use_weighting: true`; TRL cannot
    weight the sft loss: its in-place product fails);
  the loss, the reference log-probs (`compute_ref_log_probs`), TRL's logged metrics, and the gradients of a few
  weights (`<step>_gradients.safetensors`).
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DPOConfig, DPOTrainer

USER = "user"

TOKENIZATION_CASES = {
    "strings": (dict(max_length=64), [
        {"prompt": "The capital of Australia is", "chosen": " Canberra.", "rejected": " Sydney."},
        {"prompt": "2 + 2 =", "chosen": " 4<|im_end|>", "rejected": " 5, or so"},
    ]),
    "messages": (dict(max_length=64), [
        {"prompt": [{"role": USER, "content": "What is the capital of Australia?"}],
         "chosen": [{"role": "assistant", "content": "Canberra."}],
         "rejected": [{"role": "assistant", "content": "Sydney, its largest city."}]},
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": USER, "content": "2+2?"}],
         "chosen": [{"role": "assistant", "content": "4"}], "rejected": [{"role": "assistant", "content": "22"}]},
    ]),
    "keep_start": (dict(max_length=10), [
        {"prompt": "Hi", "chosen": " there, my good friend", "rejected": " no"},
        {"prompt": "A prompt so long that it fills the whole window", "chosen": " gone", "rejected": " too"},
        {"prompt": "Count:", "chosen": " one two three four five", "rejected": " one"},
    ]),
    "keep_end": (dict(max_length=8, truncation_mode="keep_end"), [
        {"prompt": "A prompt so long that only its end survives", "chosen": " yes", "rejected": " no, never"},
    ]),
}

STEP_ROWS = [
    {"prompt": "The capital of Australia is", "chosen": " Canberra.", "rejected": " Sydney."},
    {"prompt": "2 + 2 =", "chosen": " 4", "rejected": " 5, or so"},
    {"prompt": "Reverse 'abc':", "chosen": " cba", "rejected": " abc"},
]

STEPS = {
    "full": dict(loss_type=["sigmoid"], beta=0.1),
    "lora": dict(loss_type=["sigmoid", "sft"], loss_weights=[1.0, 0.5], beta=0.2, ld_alpha=0.7),
    "weighted": dict(loss_type=["sigmoid"], beta=0.5, use_weighting=True),
}

FULL_GRADIENTS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.v_proj.bias",
                  "model.layers.0.mlp.down_proj.weight", "model.norm.weight"]
LORA_TARGETS = ["q_proj", "v_proj", "down_proj"]


def config(scratch, fields):
    return DPOConfig(output_dir=scratch, report_to=[], per_device_train_batch_size=3, learning_rate=0.0, bf16=False,
                     use_cpu=True, dataset_num_proc=None, gradient_checkpointing=False, **fields)


def model_from(path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.train()
    return model


def collated_rows(trainer):
    """Each kept row's chosen and rejected sequences and completion masks, as the collator builds them."""
    rows = []
    for example in trainer.train_dataset:
        batch = trainer.data_collator([example])
        sides = []
        for index in range(2):
            length = int(batch["attention_mask"][index].sum())
            sides.append({"input_ids": batch["input_ids"][index][:length].tolist(),
                          "completion_mask": batch["completion_mask"][index][:length].tolist()})
        rows.append({"chosen": sides[0], "rejected": sides[1]})
    return rows


def step(name, fields, model_dir, tokenizer, out, scratch):
    # LoRA: a new adapter (a PeftModel passed in would get its initial copy as a "ref" adapter), then random
    # non-zero A and B, so that the policy differs from the reference (the base model, adapters disabled).
    peft_config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=LORA_TARGETS) if name != "full" else None
    trainer = DPOTrainer(model=model_from(model_dir), ref_model=None if peft_config else model_from(model_dir),
                         args=config(scratch, fields), train_dataset=Dataset.from_list(STEP_ROWS),
                         processing_class=tokenizer, peft_config=peft_config)
    if peft_config:
        generator = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for parameter_name, parameter in trainer.model.named_parameters():
                if "lora_" in parameter_name:
                    parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
        trainer.model.save_pretrained(os.path.join(out, "lora_adapter"))
    trainer.model.train()
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(STEP_ROWS))])
    ref_chosen, ref_rejected = trainer.compute_ref_log_probs(trainer.model, batch)
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()
    parameters = dict(trainer.model.named_parameters())
    if peft_config:
        names = {key: key.replace("base_model.model.", "").replace(".default", "")
                 for key in parameters if "lora_" in key and "layers.0." in key}
    else:
        names = {key: key for key in FULL_GRADIENTS}
    save_file({saved: parameters[key].grad.detach().clone().contiguous() for key, saved in names.items()},
              os.path.join(out, f"{name}_gradients.safetensors"))
    metrics = {key: values[-1] for key, values in trainer._metrics["train"].items()}
    return {"config": fields, "loss": loss.item(), "ref_chosen_logps": ref_chosen.tolist(),
            "ref_rejected_logps": ref_rejected.tolist(), "metrics": metrics, "gradients": sorted(names.values())}


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests/FledgeRLTests/Fixtures/dpo")
    model_dir = os.path.join(root, "Tests/FledgeRLTests/Fixtures/sft/model")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    torch.manual_seed(0)

    expected = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (fields, rows) in TOKENIZATION_CASES.items():
            with open(os.path.join(out, name + ".jsonl"), "w") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            trainer = DPOTrainer(model=model_from(model_dir), args=config(scratch, fields),
                                 train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
            expected[name] = {"config": fields, "rows": collated_rows(trainer)}
        with open(os.path.join(out, "step.jsonl"), "w") as f:
            for row in STEP_ROWS:
                f.write(json.dumps(row) + "\n")
        for name, fields in STEPS.items():
            expected[name] = step(name, fields, model_dir, tokenizer, out, scratch)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"dpo fixtures: {size / 1024:.0f} KiB; losses " + ", ".join(f"{n} {expected[n]['loss']:.6f}" for n in STEPS))


if __name__ == "__main__":
    main()
