"""What TRL's KTOTrainer makes of small unpaired preference datasets and one training batch, for Fledge's KTO tests.

    python3 Scripts/reference/make_kto_trainer_fixtures.py [OUT_DIR]

Writes, under OUT_DIR (default Tests/FledgeRLTests/Fixtures/kto):

- `model/`: a tiny random Llama (one layer, hidden size 24, two heads over one key/value head, untied embeddings)
  with the ChatML tokenizer of the SFT fixtures (Tests/FledgeRLTests/Fixtures/sft/model, make_sft_fixtures.py);
- `<case>.jsonl`: the rows of each tokenization case (prompt/completion/label strings, with and without the EOS
  already there; chat messages; paired prompt/chosen/rejected rows of strings and of messages, which TRL unpairs;
  `max_length` truncation that drops a row whose prompt fills it), and in
  `expected.json` per case the KTOConfig fields used and, per kept row, the training sequence and the mismatched
  (KL) sequence as `DataCollatorForUnpairedPreference` builds them (`input_ids`, `completion_mask`,
  `KL_input_ids`, `KL_completion_mask`), with the label; the KL completions rotate within batches of
  `per_device_train_batch_size` = 3 rows, so the five-row cases also cover a short last batch;
- one batch of four rows (labels true, false, false, true) through `KTOTrainer.compute_loss` and `backward()`
  per step:
  - `kto_full`: `loss_type: kto`, full fine-tuning with the policy's final norm weight scaled by 0.6 (so that it
    differs from the reference, a frozen copy of the model), `desirable_weight: 1.3`, `undesirable_weight: 0.8`;
  - `kto_lora`: `loss_type: kto`, LoRA on q/v/down projections with random non-zero A and B (written to
    `lora_adapter/`, so the policy differs from the reference, the base model with the adapters disabled), β 0.5;
  - `apo_lora`: `loss_type: apo_zero_unpaired` with the same adapter, β 0.3, `undesirable_weight: 1.5`;
  the loss, the reference log-probs of the completions and of the mismatched completions
  (`compute_ref_log_probs`), TRL's logged metrics, and the gradients of a few weights (`<step>_gradients.safetensors`).
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from datasets import Dataset
from peft import LoraConfig
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM
from trl import KTOConfig, KTOTrainer

USER = "user"

TOKENIZATION_CASES = {
    "strings": (dict(max_length=64), [
        {"prompt": "The capital of Australia is", "completion": " Canberra.", "label": True},
        {"prompt": "2 + 2 =", "completion": " 5, or so", "label": False},
        {"prompt": "Reverse 'abc':", "completion": " cba<|im_end|>", "label": True},
        {"prompt": "The sky is", "completion": " green.", "label": False},
        {"prompt": "Count:", "completion": " one two three", "label": True},
    ]),
    "messages": (dict(max_length=64), [
        {"prompt": [{"role": USER, "content": "What is the capital of Australia?"}],
         "completion": [{"role": "assistant", "content": "Canberra."}], "label": True},
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": USER, "content": "2+2?"}],
         "completion": [{"role": "assistant", "content": "22"}], "label": False},
        {"prompt": [{"role": USER, "content": "Say hi"}],
         "completion": [{"role": "assistant", "content": "Hello there, friend!"}], "label": True},
    ]),
    "paired": (dict(max_length=64), [
        {"prompt": "The capital of Australia is", "chosen": " Canberra.", "rejected": " Sydney."},
        {"prompt": "2 + 2 =", "chosen": " 4", "rejected": " 5, or so"},
        {"prompt": "Say hi:", "chosen": " Hello!", "rejected": " Go away."},
    ]),
    "paired_messages": (dict(max_length=64), [
        {"prompt": [{"role": USER, "content": "What is the capital of Australia?"}],
         "chosen": [{"role": "assistant", "content": "Canberra."}],
         "rejected": [{"role": "assistant", "content": "Sydney, its largest city."}]},
        {"prompt": [{"role": USER, "content": "2+2?"}], "chosen": [{"role": "assistant", "content": "4"}],
         "rejected": [{"role": "assistant", "content": "22"}]},
    ]),
    "truncated": (dict(max_length=10), [
        {"prompt": "Hi", "completion": " there, my good friend", "label": True},
        {"prompt": "A prompt so long that it fills the whole window", "completion": " gone", "label": False},
        {"prompt": "Count:", "completion": " one two three four five", "label": False},
        {"prompt": "Yes", "completion": " no", "label": True},
        {"prompt": "Sky", "completion": " blue, deep blue, very blue", "label": True},
        {"prompt": "Sea", "completion": " wet", "label": False},
    ]),
}

STEP_ROWS = [
    {"prompt": "The capital of Australia is", "completion": " Canberra.", "label": True},
    {"prompt": "2 + 2 =", "completion": " 5, or so", "label": False},
    {"prompt": "Reverse 'abc':", "completion": " abc", "label": False},
    {"prompt": "The colour of the sky is", "completion": " blue", "label": True},
]

STEPS = {
    "kto_full": dict(loss_type="kto", beta=0.1, desirable_weight=1.3, undesirable_weight=0.8),
    "kto_lora": dict(loss_type="kto", beta=0.5),
    "apo_lora": dict(loss_type="apo_zero_unpaired", beta=0.3, undesirable_weight=1.5),
}

FULL_GRADIENTS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.o_proj.weight",
                  "model.layers.0.mlp.down_proj.weight", "model.norm.weight", "lm_head.weight"]
LORA_TARGETS = ["q_proj", "v_proj", "down_proj"]
NORM_SCALE = 0.6


def config(scratch, fields):
    return KTOConfig(output_dir=scratch, report_to=[], per_device_train_batch_size=3, learning_rate=0.0, bf16=False,
                     use_cpu=True, dataset_num_proc=None, gradient_checkpointing=False, **fields)


def write_model(tokenizer, path):
    torch.manual_seed(7)
    llama = LlamaConfig(vocab_size=len(tokenizer), hidden_size=24, intermediate_size=40, num_hidden_layers=1,
                        num_attention_heads=2, num_key_value_heads=1, head_dim=12, max_position_embeddings=128,
                        rms_norm_eps=1e-6, tie_word_embeddings=False, pad_token_id=tokenizer.pad_token_id,
                        eos_token_id=tokenizer.eos_token_id, bos_token_id=None)
    model = LlamaForCausalLM(llama)
    with torch.no_grad():  # wider weights than the 0.02 initialisation, so log-probs differ between tokens
        for parameter in model.parameters():
            if parameter.dim() == 2:
                parameter.normal_(0, 0.3)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)


def model_from(path):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.train()
    return model


def collated_rows(trainer):
    """Each kept row's training and mismatched sequences and completion masks, as the collator builds them."""
    rows = []
    for example in trainer.train_dataset:
        batch = trainer.data_collator([example])
        row = {"label": bool(batch["label"][0])}
        for prefix in ["", "KL_"]:
            length = int(batch[prefix + "attention_mask"][0].sum())
            row[prefix + "input_ids"] = batch[prefix + "input_ids"][0][:length].tolist()
            row[prefix + "completion_mask"] = batch[prefix + "completion_mask"][0][:length].tolist()
        rows.append(row)
    return rows


def step(name, fields, model_dir, out, scratch):
    # LoRA: a new adapter, then random non-zero A and B, so that the policy differs from the reference (the base
    # model, adapters disabled) and the KL estimate is positive.
    lora = name.endswith("lora")
    peft_config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=LORA_TARGETS) if lora else None
    args = config(scratch, fields)
    args.per_device_train_batch_size = len(STEP_ROWS)
    trainer = KTOTrainer(model=model_from(model_dir), ref_model=None if lora else model_from(model_dir),
                         args=args, train_dataset=Dataset.from_list(STEP_ROWS),
                         processing_class=AutoTokenizer.from_pretrained(model_dir), peft_config=peft_config)
    if lora:
        generator = torch.Generator().manual_seed(11)
        with torch.no_grad():
            for parameter_name, parameter in trainer.model.named_parameters():
                if "lora_" in parameter_name:
                    parameter.copy_(0.5 * torch.randn(parameter.shape, generator=generator))
        trainer.model.save_pretrained(os.path.join(out, "lora_adapter"))
    else:
        # Full fine-tuning: the policy's final norm scaled by NORM_SCALE (the Swift test does the same), so that it
        # differs from the reference, a frozen copy of the model as saved.
        with torch.no_grad():
            trainer.model.model.norm.weight.mul_(NORM_SCALE)
    trainer.model.train()
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(STEP_ROWS))])
    ref_logps, ref_kl_logps = trainer.compute_ref_log_probs(trainer.ref_model or trainer.model, batch)
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()
    parameters = dict(trainer.model.named_parameters())
    if lora:
        names = {key: key.replace("base_model.model.", "").replace(".default", "")
                 for key in parameters if "lora_" in key and "layers.0." in key}
    else:
        names = {key: key for key in FULL_GRADIENTS}
    save_file({saved: parameters[key].grad.detach().clone().contiguous() for key, saved in names.items()},
              os.path.join(out, f"{name}_gradients.safetensors"))
    metrics = {key: values[-1] for key, values in trainer._metrics["train"].items()}
    return {"config": fields, "loss": loss.item(), "ref_logps": ref_logps.tolist(),
            "ref_KL_logps": ref_kl_logps.tolist() if ref_kl_logps is not None else None,
            "metrics": metrics, "gradients": sorted(names.values())}


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests/FledgeRLTests/Fixtures/kto")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    model_dir = os.path.join(out, "model")
    write_model(AutoTokenizer.from_pretrained(os.path.join(root, "Tests/FledgeRLTests/Fixtures/sft/model")), model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    expected = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (fields, rows) in TOKENIZATION_CASES.items():
            with open(os.path.join(out, name + ".jsonl"), "w") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            trainer = KTOTrainer(model=model_from(model_dir), args=config(scratch, fields),
                                 train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
            expected[name] = {"config": fields, "rows": collated_rows(trainer)}
        with open(os.path.join(out, "step.jsonl"), "w") as f:
            for row in STEP_ROWS:
                f.write(json.dumps(row) + "\n")
        for name, fields in STEPS.items():
            expected[name] = step(name, fields, model_dir, out, scratch)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"kto fixtures: {size / 1024:.0f} KiB; " + ", ".join(
        f"{n} loss {expected[n]['loss']:.6f} kl {expected[n]['metrics']['kl']:.4f}" for n in STEPS))


if __name__ == "__main__":
    main()
