"""What TRL's RewardTrainer makes of small preference datasets and one training batch, for Fledge's reward tests.

    python3 Scripts/reference/make_reward_trainer_fixtures.py [OUT_DIR]

Writes, under OUT_DIR (default Tests/FledgeRLTests/Fixtures/reward):

- `model/`: a tiny random Llama-shaped `LlamaForSequenceClassification` (one label, no `pad_token_id` in its
  config) with the ChatML tokenizer of the SFT fixtures, its `pad_token` removed so that TRL pads with the EOS
  token `<|im_end|>`: the reward is then read at the last token that is not EOS (the token before the EOS that
  TRL appends to plain text);
- `<case>.jsonl`: the rows of each tokenization case (explicit and implicit prompts, text and chat messages, a
  `max_length` that filters a pair out), and in `expected.json` per case the RewardConfig fields used and each
  kept row's `chosen_ids` and `rejected_ids` as `RewardTrainer._prepare_dataset` makes them;
- the `full` and `lora` steps: one batch of three pairs through `RewardTrainer.compute_loss` and `backward()`
  (learning rate 0):
  - `full`: full fine-tuning on text rows with a `margin` column and `center_rewards_coefficient: 0.01`;
  - `lora`: a PEFT `SEQ_CLS` LoRA adapter (r 4 on q/v/down projections, random non-zero A and B, and a random
    trained `score` head in `modules_to_save`), written to `lora_adapter/`, on chat rows;
  the loss, TRL's logged metrics, the rewards, and the gradients of a few weights (`<step>_gradients.safetensors`).
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
from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification
from trl import RewardConfig, RewardTrainer

USER, ASSISTANT = "user", "assistant"

TOKENIZATION_CASES = {
    "text_explicit": (dict(max_length=64), [
        {"prompt": "The capital of Australia is", "chosen": " Canberra.", "rejected": " Sydney."},
        {"prompt": "2 + 2 =", "chosen": " 4<|im_end|>", "rejected": " 5, or so"},
    ]),
    "text_implicit": (dict(max_length=64), [
        {"chosen": "The capital of Australia is Canberra.", "rejected": "The capital of Australia is Sydney."},
        {"chosen": "2 + 2 = 4", "rejected": "2 + 2 = 5<|im_end|>"},
    ]),
    "chat_explicit": (dict(max_length=64), [
        {"prompt": [{"role": USER, "content": "What is the capital of Australia?"}],
         "chosen": [{"role": ASSISTANT, "content": "Canberra."}],
         "rejected": [{"role": ASSISTANT, "content": "Sydney, its largest city."}]},
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": USER, "content": "2+2?"}],
         "chosen": [{"role": ASSISTANT, "content": "4"}], "rejected": [{"role": ASSISTANT, "content": "22"}]},
    ]),
    "chat_implicit": (dict(max_length=64), [
        {"chosen": [{"role": USER, "content": "2+2?"}, {"role": ASSISTANT, "content": "4"}],
         "rejected": [{"role": USER, "content": "2+2?"}, {"role": ASSISTANT, "content": "5"}]},
    ]),
    "max_length": (dict(max_length=12), [
        {"prompt": "Hi", "chosen": " there", "rejected": " no"},
        {"prompt": "A prompt", "chosen": " with a chosen answer far too long to keep", "rejected": " short"},
        {"prompt": "Count:", "chosen": " one two", "rejected": " one"},
    ]),
}

STEPS = {
    "full": dict(center_rewards_coefficient=0.01, max_length=64),
    "lora": dict(max_length=64),
}

FULL_ROWS = [
    {"prompt": "The capital of Australia is", "chosen": " Canberra.", "rejected": " Sydney.", "margin": 0.5},
    {"prompt": "2 + 2 =", "chosen": " 4", "rejected": " 5, or so", "margin": 0.0},
    {"prompt": "Reverse 'abc':", "chosen": " cba", "rejected": " abc", "margin": -1.25},
]
LORA_ROWS = TOKENIZATION_CASES["chat_explicit"][1] + [
    {"prompt": [{"role": USER, "content": "Reverse 'abc'."}], "chosen": [{"role": ASSISTANT, "content": "cba"}],
     "rejected": [{"role": ASSISTANT, "content": "abc, reversed, is abc"}]},
]

FULL_GRADIENTS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight", "model.norm.weight",
                  "score.weight"]
LORA_TARGETS = ["q_proj", "v_proj", "down_proj"]


def make_model(out, root):
    """The fixture model and tokenizer: random weights (seed 0, initializer_range 0.2 so rewards differ)."""
    model_dir = os.path.join(out, "model")
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=1205, hidden_size=16, intermediate_size=40, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=1, head_dim=8, max_position_embeddings=128, initializer_range=0.2,
                         num_labels=1, eos_token_id=1202, bos_token_id=None, pad_token_id=None, tie_word_embeddings=False)
    LlamaForSequenceClassification(config).save_pretrained(model_dir)
    sft = os.path.join(root, "Tests/FledgeRLTests/Fixtures/sft/model")
    shutil.copy(os.path.join(sft, "tokenizer.json"), model_dir)
    with open(os.path.join(sft, "tokenizer_config.json")) as f:
        tokenizer_config = json.load(f)
    del tokenizer_config["pad_token"]
    with open(os.path.join(model_dir, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=2)
    return model_dir


def config(scratch, fields):
    return RewardConfig(output_dir=scratch, report_to=[], per_device_train_batch_size=3, learning_rate=0.0, bf16=False,
                        use_cpu=True, dataset_num_proc=None, gradient_checkpointing=False, **fields)


def model_from(path):
    return LlamaForSequenceClassification.from_pretrained(path, dtype=torch.float32)


def step(name, fields, rows, model_dir, out, scratch):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    peft_config = None
    if name == "lora":
        peft_config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=LORA_TARGETS, task_type="SEQ_CLS")
    trainer = RewardTrainer(model=model_from(model_dir), args=config(scratch, fields), train_dataset=Dataset.from_list(rows),
                            processing_class=tokenizer, peft_config=peft_config)
    if peft_config:
        # Random non-zero A, B and head, so that the adapter and the trained head both change the rewards.
        generator = torch.Generator().manual_seed(5)
        with torch.no_grad():
            for parameter_name, parameter in trainer.model.named_parameters():
                if parameter.requires_grad:
                    parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
        trainer.model.save_pretrained(os.path.join(out, "lora_adapter"))
    trainer.model.train()
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    with torch.no_grad():
        rewards = trainer.model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits.squeeze(-1)
    loss = trainer.compute_loss(trainer.model, batch)
    loss.backward()
    parameters = dict(trainer.model.named_parameters())
    if peft_config:
        names = {key: key.replace("base_model.model.", "", 1).replace(".modules_to_save", "").replace(".default", "")
                 for key, parameter in parameters.items() if parameter.requires_grad
                 and ("layers.0." in key or "score" in key)}
    else:
        names = {key: key for key in FULL_GRADIENTS}
    save_file({saved: parameters[key].grad.detach().clone().contiguous() for key, saved in names.items()},
              os.path.join(out, f"{name}_gradients.safetensors"))
    metrics = {key: values[-1] for key, values in trainer._metrics["train"].items()}
    return {"config": fields, "loss": loss.item(), "rewards": rewards.tolist(), "metrics": metrics,
            "input_ids": batch["input_ids"].tolist(), "gradients": sorted(names.values())}


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests/FledgeRLTests/Fixtures/reward")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    model_dir = make_model(out, root)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    expected = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (fields, rows) in TOKENIZATION_CASES.items():
            with open(os.path.join(out, name + ".jsonl"), "w") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            trainer = RewardTrainer(model=model_from(model_dir), args=config(scratch, fields),
                                    train_dataset=Dataset.from_list(rows), processing_class=tokenizer)
            expected[name] = {"config": fields, "rows": [{"chosen_ids": example["chosen_ids"], "rejected_ids": example["rejected_ids"]}
                                                         for example in trainer.train_dataset]}
        for name, rows in [("full", FULL_ROWS), ("lora", LORA_ROWS)]:
            with open(os.path.join(out, name + "_step.jsonl"), "w") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            expected[name] = step(name, STEPS[name], rows, model_dir, out, scratch)
    expected["pad_token_id"] = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"reward fixtures: {size / 1024:.0f} KiB; losses " + ", ".join(f"{n} {expected[n]['loss']:.6f}" for n in STEPS))


if __name__ == "__main__":
    main()
