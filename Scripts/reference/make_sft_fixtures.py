"""What TRL's SFTTrainer makes of small SFT datasets, for Fledge's SFT tests.

    python3 Scripts/reference/make_sft_fixtures.py [OUT_DIR]

Writes, under OUT_DIR (default Tests/FledgeRLTests/Fixtures/sft):

- `model/`: a tiny random-init Qwen2 (float32, tied embeddings, q/k/v biases, non-square shapes) with
  the locally trained qwen2 tokenizer of the tokenizer fixtures and a ChatML chat template;
- `<case>.jsonl`: the rows of each case (text; prompt/completion strings; messages; prompt/completion
  as message lists; assistant-only losses through the template's `{% generation %}` marks), and `expected.json`: per case, the SFTConfig fields used and the `input_ids` and
  `labels` of every example after `SFTTrainer`'s dataset preparation (EOS appended, chat template,
  completion mask, truncation, fully masked examples dropped);
- `templates/plain_eos.jinja`: the chat template file of the `chat_template_path` case (with `eos_token`
  overridden, which the template prints), each such case run on a fresh tokenizer since TRL changes it;
- `step.safetensors` + the `step` entry of `expected.json`: one optimizer step of the prompt/completion
  case as two micro-batches of 3 rows: each micro-batch's loss from `SFTTrainer.compute_loss` with
  HF's `num_items_in_batch` (trained tokens of the whole step), and the accumulated gradients of a
  few weights after `backward()` of both;
- `packing/<case>.jsonl` and `packing.json`: per packing case, the SFTConfig fields and the packed
  dataset `SFTTrainer` makes (`input_ids`, `labels`, `seq_lengths` for bfd/bfd_split: TRL's
  `pack_dataset` after its preparation; one case has 1,100 rows, past `datasets`' map batch of 1000);
  per loss case, one optimizer step of two micro-batches through `SFTTrainer`'s own collator
  (padding-free for bfd) and `compute_loss` (losses, `num_items_in_batch`, gradients in
  `packing/step_<case>.safetensors`) and `trainer.evaluate()`'s `eval_loss` on the same rows:
  bfd and wrapped packing, `loss_type: dft`, `label_smoothing_factor` unpacked and packed.
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from datasets import Dataset
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, Qwen2Config
from trl import SFTConfig, SFTTrainer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import randomize, write_chat_tokenizer  # noqa: E402

# ChatML with transformers' `{% generation %}` marks around assistant replies (for assistant_only_loss).
CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
          "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] }}<|im_end|>{% endgeneration %}"
          "{% else %}{{ message['content'] }}<|im_end|>{% endif %}\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")

# The chat_template_path case's template file, relative to the fixture directory.
PLAIN_TEMPLATE = "templates/plain_eos.jinja"
PLAIN_EOS = ("{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}{{ eos_token }}\n"
             "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}")

CASES = {
    "text": (dict(max_length=24), [
        {"text": "Hello world, fledge learns to fly!"},
        {"text": "Already ends with the EOS token<|im_end|>"},
        {"text": "A longer line of text that the maximum length of twenty four tokens cuts off at its start."},
    ]),
    "text_keep_end": (dict(max_length=12, truncation_mode="keep_end"), [
        {"text": "A longer line of text that keep_end truncation cuts from the front."},
        {"text": "Short one."},
    ]),
    "prompt_completion": (dict(max_length=32), [
        {"prompt": "2 + 2 =", "completion": " 4"},
        {"prompt": "The capital of France is ", "completion": "Paris."},
        {"prompt": "Reverse 'abc':", "completion": " cba"},
        {"prompt": "Count to three:", "completion": " one two three"},
        {"prompt": "Translate 'chat' to English:", "completion": " cat"},
        {"prompt": "Is the sky blue?", "completion": " Yes, on a clear day."},
    ]),
    "prompt_completion_all_tokens": (dict(max_length=32, completion_only_loss=False), [
        {"prompt": "2 + 2 =", "completion": " 4"},
        {"prompt": "Say hi:", "completion": " hi"},
    ]),
    "prompt_completion_truncated": (dict(max_length=6), [
        {"prompt": "A prompt so long that nothing of the completion survives truncation", "completion": " gone"},
        {"prompt": "Hi", "completion": " there, friend"},
    ]),
    "messages": (dict(max_length=40), [
        {"messages": [{"role": "user", "content": "Say hello"}, {"role": "assistant", "content": "Hello!"}]},
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
                      {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"},
                      {"role": "assistant", "content": "6"}]},
    ]),
    "messages_assistant_only": (dict(max_length=64, assistant_only_loss=True), [
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
                      {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"},
                      {"role": "assistant", "content": "6, é"}]},
    ]),
    "conversational_prompt_completion_assistant_only": (dict(max_length=40, assistant_only_loss=True), [
        {"prompt": [{"role": "user", "content": "Say hello"}], "completion": [{"role": "assistant", "content": "Hello!"}]},
    ]),
    "conversational_prompt_completion": (dict(max_length=40), [
        {"prompt": [{"role": "user", "content": "Say hello"}], "completion": [{"role": "assistant", "content": "Hello!"}]},
        {"prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
         "completion": [{"role": "assistant", "content": "4"}]},
    ]),
    # eos_token replaces the EOS appended to plain text.
    "text_eos_token": (dict(max_length=40, eos_token="<|endoftext|>"), [
        {"text": "Hello world, fledge learns to fly!"},
        {"text": "Ends with the new EOS<|endoftext|>"},
    ]),
    # chat_template_path: a template file that prints the (overridden) eos_token after each turn.
    "messages_template_file": (dict(max_length=48, eos_token="<|endoftext|>", chat_template_path=PLAIN_TEMPLATE), [
        {"messages": [{"role": "user", "content": "Say hello"}, {"role": "assistant", "content": "Hello!"}]},
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"},
                      {"role": "assistant", "content": "4"}]},
    ]),
}

STEP_WEIGHTS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.v_proj.bias",
                "model.layers.0.mlp.down_proj.weight", "model.norm.weight"]


def make_model(path, tokenizer):
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=24, intermediate_size=40, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=128,
                         rms_norm_eps=1e-6, tie_word_embeddings=True, rope_theta=10000.0, bos_token_id=None,
                         eos_token_id=eos, pad_token_id=pad)
    torch.manual_seed(11)
    model = AutoModelForCausalLM.from_config(config)
    randomize(model, torch.Generator().manual_seed(11))
    model.save_pretrained(path)
    GenerationConfig(eos_token_id=eos, pad_token_id=pad).save_pretrained(path)
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)


def trainer(model, tokenizer, rows, fields, scratch):
    args = SFTConfig(output_dir=scratch, report_to=[], per_device_train_batch_size=3, learning_rate=0.0, bf16=False, use_cpu=True,
                     dataset_num_proc=None, **fields)
    return SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer)


# Rows of different lengths, some longer than the packing cases' max_length, some of equal length (BFD's ties).
PACKING_TEXT = [
    {"text": "Hello world, fledge learns to fly!"},
    {"text": "Short one."},
    {"text": "A longer line of text that the maximum length cuts off somewhere in its middle part."},
    {"text": "Two words"},
    {"text": "Tiny"},
    {"text": "Another sentence of moderate length."},
    {"text": "Equal A."},
    {"text": "Equal B."},
    {"text": "The quick brown fox jumps over the lazy dog, twice over and again."},
    {"text": "ok"},
]
WORDS = ["alpha", "beta", "gamma", "delta", "fledge", "wing", "sky", "nest", "egg", "tree", "leaf"]
MANY_TEXT = [{"text": " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(1 + (i * 13) % 9)) + f" {i}"}
             for i in range(1100)]

PACKING_CASES = {
    "bfd_text": (dict(max_length=16, packing=True), PACKING_TEXT),
    "bfd_split_text": (dict(max_length=16, packing=True, packing_strategy="bfd_split"), PACKING_TEXT),
    "wrapped_text": (dict(max_length=16, packing=True, packing_strategy="wrapped"), PACKING_TEXT),
    "bfd_prompt_completion": (dict(max_length=12, packing=True), CASES["prompt_completion"][1]),
    "bfd_assistant_only": (dict(max_length=40, packing=True, assistant_only_loss=True),
                           CASES["messages_assistant_only"][1] + CASES["messages"][1]),
    "bfd_many": (dict(max_length=32, packing=True), MANY_TEXT),
}

# Loss cases: (data case, fields); two micro-batches of 2 rows each, then evaluate() with eval batches of 3.
LOSS_CASES = {
    "bfd": ("bfd_text", dict(max_length=32, packing=True)),
    "bfd_completion": ("bfd_prompt_completion", dict(max_length=48, packing=True)),
    "wrapped": ("wrapped_text", dict(max_length=16, packing=True, packing_strategy="wrapped")),
    "dft": ("bfd_prompt_completion", dict(max_length=32, loss_type="dft")),
    "smoothing": ("bfd_prompt_completion", dict(max_length=32, label_smoothing_factor=0.1)),
    "smoothing_bfd": ("bfd_text", dict(max_length=32, packing=True, label_smoothing_factor=0.1)),
}


def packing_fixtures(out, model_dir, scratch):
    """The packed datasets and packed/loss-type steps (see the module docstring)."""
    directory = os.path.join(out, "packing")
    os.makedirs(directory)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    expected = {"datasets": {}, "steps": {}}
    for name, (fields, rows) in PACKING_CASES.items():
        with open(os.path.join(directory, name + ".jsonl"), "w") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
        prepared = trainer(AutoModelForCausalLM.from_pretrained(model_dir), tokenizer, rows, fields, scratch).train_dataset
        entry = {"config": fields, "input_ids": list(prepared["input_ids"]), "labels": list(prepared["labels"])}
        if "seq_lengths" in prepared.column_names:
            entry["seq_lengths"] = list(prepared["seq_lengths"])
        expected["datasets"][name] = entry
    for name, (data, fields) in LOSS_CASES.items():
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        rows = PACKING_CASES[data][1]
        args = SFTConfig(output_dir=scratch, report_to=[], per_device_train_batch_size=2, per_device_eval_batch_size=3,
                         learning_rate=0.0, bf16=False, use_cpu=True, dataset_num_proc=None, **fields)
        sft = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                         eval_dataset=Dataset.from_list(rows), processing_class=tokenizer)
        model.train()
        examples = [sft.train_dataset[i] for i in range(len(sft.train_dataset))]
        batches = [sft.data_collator(examples[0:2]), sft.data_collator(examples[2:4])]
        items = sum(int((b["labels"][..., 1:] != -100).sum()) for b in batches)
        losses = []
        for batch in batches:
            loss = sft.compute_loss(model, dict(batch), num_items_in_batch=torch.tensor(items))
            loss.backward()
            losses.append(loss.item())
        parameters = dict(model.named_parameters())
        save_file({weight: parameters[weight].grad.detach().clone().contiguous() for weight in STEP_WEIGHTS},
                  os.path.join(directory, f"step_{name}.safetensors"))
        model.zero_grad()
        eval_loss = sft.evaluate()["eval_loss"]
        if "seq_lengths" in sft.train_dataset.column_names:
            print(name, "documents per packed row:", list(sft.train_dataset["seq_lengths"]))
        expected["steps"][name] = {"data": data, "config": fields, "micro_batches": [[0, 1], [2, 3]],
                                   "num_items_in_batch": items, "losses": losses, "gradients": STEP_WEIGHTS,
                                   "eval_loss": eval_loss, "eval_batch_size": 3}
        print(f"{name}: losses {losses}, {items} trained tokens, eval_loss {eval_loss}")
    with open(os.path.join(out, "packing.json"), "w") as f:
        json.dump(expected, f)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests/FledgeRLTests/Fixtures/sft")
    shutil.rmtree(out, ignore_errors=True)
    model_dir = os.path.join(out, "model")
    os.makedirs(model_dir)
    source = os.path.join(root, "Tests/FledgeLMTests/Fixtures/tokenizers/qwen2")
    write_chat_tokenizer(source, model_dir, CHATML)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = make_model(model_dir, tokenizer)

    expected = {}
    with tempfile.TemporaryDirectory() as scratch:
        os.makedirs(os.path.join(out, "templates"))
        with open(os.path.join(out, PLAIN_TEMPLATE), "w") as f:
            f.write(PLAIN_EOS)
        for name, (fields, rows) in CASES.items():
            with open(os.path.join(out, name + ".jsonl"), "w") as f:
                for row in rows:
                    f.write(json.dumps(row) + "\n")
            # SFTTrainer sets eos_token and the chat template on the tokenizer it is given.
            changes = "eos_token" in fields or "chat_template_path" in fields
            case_tokenizer = AutoTokenizer.from_pretrained(model_dir) if changes else tokenizer
            case_fields = dict(fields)
            if "chat_template_path" in fields:
                case_fields["chat_template_path"] = os.path.join(out, fields["chat_template_path"])
            prepared = trainer(model, case_tokenizer, rows, case_fields, scratch).train_dataset
            expected[name] = {"config": fields, "input_ids": list(prepared["input_ids"]), "labels": list(prepared["labels"])}

        sft = trainer(model, tokenizer, CASES["prompt_completion"][1], CASES["prompt_completion"][0], scratch)
        model.train()
        examples = [sft.train_dataset[i] for i in range(len(sft.train_dataset))]
        batches = [sft.data_collator(examples[0:3]), sft.data_collator(examples[3:6])]
        items = sum(int((b["labels"][..., 1:] != -100).sum()) for b in batches)
        losses = []
        for batch in batches:
            loss = sft.compute_loss(model, dict(batch), num_items_in_batch=torch.tensor(items))
            loss.backward()
            losses.append(loss.item())
        parameters = dict(model.named_parameters())
        save_file({name: parameters[name].grad.detach().clone().contiguous() for name in STEP_WEIGHTS},
                  os.path.join(out, "step.safetensors"))
        expected["step"] = {"micro_batches": [[0, 1, 2], [3, 4, 5]], "num_items_in_batch": items,
                            "losses": losses, "gradients": STEP_WEIGHTS}
        packing_fixtures(out, model_dir, scratch)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"sft fixtures: {size / 1024:.0f} KiB; step losses {losses}, {items} trained tokens")


if __name__ == "__main__":
    main()
