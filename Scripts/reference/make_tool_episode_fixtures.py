"""Multi-turn tool-calling parity fixtures from TRL 1.16's own GRPOTrainer tool loop.

    python3 Scripts/reference/make_tool_episode_fixtures.py [OUT_DIR]  (default Tests/FledgeRLTests/Fixtures/tool_episodes)

A tiny random Qwen2 with the locally trained qwen2 tokenizer of the tokenizer fixtures and TRL's Qwen2.5 chat
template is trained by `GRPOTrainer(tools=[multiply])`, a deterministic tool. Sampling is replaced by a script: the
trainer's `_generate_single_turn` returns, for each row, the next of its scripted model turns (tool calls, a call to a
tool that does not exist, a call the tool rejects, a malformed call, plain answers, a last turn cut by
max_completion_length), so everything else — parsing each turn with `parse_response`, running the tools, the tool
messages' tokens from `_get_tool_suffix_ids`, the tool mask, the truncation, the metrics, the advantages — is TRL's
own `_generate_and_score_completions`. Then `compute_loss` and its gradients for several loss types.

Writes under OUT_DIR:
- model/: the tiny Qwen2 (float32) with tokenizer.json and tokenizer_config.json (the chat template);
- episodes.json: the messages of each prompt, the tool definitions TRL rendered, max_completion_length and
  max_tool_calling_iterations, each row's scripted turns, prompt ids, completion ids and tool mask, the rewards and
  advantages, num_items_in_batch, the tools/* metrics, and per loss case its settings, loss and the gradients of two
  parameters (as flat lists).
"""
import json
import os
import shutil
import sys
import tempfile

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig, Qwen2Config
from transformers.utils import get_json_schema
from trl import GRPOConfig, GRPOTrainer
from trl import chat_template_utils as ctu

sys.path.insert(0, os.path.dirname(__file__))
from make_model_fixtures import randomize, write_chat_tokenizer  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
TOKENIZER = os.path.join(ROOT, "Tests", "FledgeLMTests", "Fixtures", "tokenizers", "qwen2")
GRADIENT_PARAMETERS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.1.mlp.down_proj.weight"]
MAX_TOOL_CALLING_ITERATIONS = 2


def multiply(a: int, b: int) -> str:
    """
    Multiplies two whole numbers.

    Args:
        a: The first factor.
        b: The second factor, not negative.
    """
    if b < 0:
        raise ValueError("b must not be negative")
    return str(a * b)


PROMPTS = [[{"role": "user", "content": "What is 6 times 7?"}], [{"role": "user", "content": "What is 2 times 3?"}]]


def call(name, **arguments):
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


# Each row's model turns, in order; rows 0-1 answer prompt 0, rows 2-3 prompt 1.
TURNS = [
    [call("multiply", a=6, b=7) + "<|im_end|>", "The answer is 42.<|im_end|>"],
    ["I think it is 41.<|im_end|>"],
    [call("multiply", a=2, b=3) + "\n" + call("divide", a=6, b=2) + "<|im_end|>",
     call("multiply", a=2, b=-1) + "<|im_end|>",
     "Never reached: max_tool_calling_iterations stops the loop first.<|im_end|>"],
    ['Let me see. <tool_call>{"name": multiply}</tool_call><|im_end|>'],
]
# Row 1 gets a long final answer in a second variant of the batch: see `CUT_ROW`.
CUT_ROW = 0
CUT_ANSWER = "The product of six and seven is forty-two, which I computed with the tool above; it is exact.<|im_end|>"


def make_model(path, tokenizer):
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=24, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=1024,
                         rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
                         eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
                         pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"), bos_token_id=None)
    model = AutoModelForCausalLM.from_config(config)
    randomize(model, torch.Generator().manual_seed(11), head_scale=1.6)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    GenerationConfig(eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id).save_pretrained(path)
    write_chat_tokenizer(TOKENIZER, path, chat_template=ctu.qwen2_5_chat_template)


def scripted_generation(tokenizer, turns, prompt_ids_of_rows):
    """A `_generate_single_turn` that answers each context with its row's next scripted turn."""
    encoded = [[tokenizer.encode(turn, add_special_tokens=False) for turn in row] for row in turns]
    taken = [0] * len(turns)

    def generate(prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        out = []
        for index, context in enumerate(prompt_ids):
            context = list(context)
            if taken[index] == 0 and len(out) == index and all(t == 0 for t in taken[index:]) and \
                    context == prompt_ids_of_rows[index] and len(prompt_ids) == len(turns):
                row = index  # the first turn of every row, in row order
            else:  # a later turn: the row whose first turn follows its prompt in this context
                row = next(r for r in range(len(turns)) if taken[r] > 0 and
                           context[len(prompt_ids_of_rows[r]):][:len(encoded[r][0])] == encoded[r][0])
            out.append(encoded[row][taken[row]])
            taken[row] += 1
        return out, None

    return generate


def generate_batch(model_dir, tokenizer, turns, max_completion_length, work_dir):
    """TRL's GRPOTrainer (in train mode) and the batch its tool loop makes of the scripted `turns`."""
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    args = GRPOConfig(output_dir=work_dir, report_to="none", use_cpu=True, bf16=False, per_device_train_batch_size=4,
                      num_generations=2, gradient_accumulation_steps=1, steps_per_generation=1, beta=0.0,
                      max_completion_length=max_completion_length, temperature=0.8, logging_steps=1, seed=0,
                      max_tool_calling_iterations=MAX_TOOL_CALLING_ITERATIONS)

    def reward(completions, **kwargs):
        return [1.0 if "42" in completion[-1]["content"] else 0.25 * len(completion) for completion in completions]

    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, processing_class=tokenizer,
                          train_dataset=Dataset.from_dict({"prompt": PROMPTS * 4}), tools=[multiply])
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1
    inputs = [{"prompt": PROMPTS[row // 2]} for row in range(4)]
    prompt_ids = [tokenizer.apply_chat_template(PROMPTS[row // 2], tools=trainer.tools, add_generation_prompt=True,
                                                tokenize=True, return_dict=False) for row in range(4)]
    trainer._generate_single_turn = scripted_generation(tokenizer, turns, prompt_ids)
    return trainer, trainer._generate_and_score_completions(inputs)


def run_batch(model_dir, tokenizer, turns, max_completion_length, work_dir):
    trainer, batch = generate_batch(model_dir, tokenizer, turns, max_completion_length, work_dir)
    metrics = {name: values[-1] for name, values in trainer._metrics["train"].items() if name.startswith("tools/")}
    completion_mask, tool_mask = batch["completion_mask"], batch["tool_mask"]
    rows = []
    for row in range(4):
        length = int(completion_mask[row].sum()) if completion_mask[row].sum() > 0 else len(
            [t for t in batch["completion_ids"][row].tolist()])
        ids = batch["completion_ids"][row].tolist()
        # The completion's real length: right padding is the pad id with mask 0.
        real = max(i + 1 for i in range(len(ids)) if completion_mask[row, i] == 1)
        rows.append({"prompt_ids": batch["prompt_ids"][row][batch["prompt_mask"][row].bool()].tolist(),
                     "completion_ids": ids[:real], "tool_mask": tool_mask[row, :real].tolist(), "turns": turns[row]})
    cases = []
    for loss_type, level in [("grpo", "token"), ("dapo", "token"), ("dr_grpo", "token"), ("bnpo", "sequence")]:
        trainer.loss_type = loss_type
        trainer.importance_sampling_level = level
        trainer.model.zero_grad()
        loss = trainer.compute_loss(trainer.model, batch)
        loss.backward()
        parameters = dict(trainer.model.named_parameters())
        cases.append({"loss_type": loss_type, "importance_sampling_level": level, "loss": loss.item(),
                      "gradients": {name: parameters[name].grad.flatten().tolist() for name in GRADIENT_PARAMETERS}})
    return {"tools": [get_json_schema(tool) for tool in trainer.tools], "rows": rows, "advantages": batch["advantages"].tolist(),
            "num_items_in_batch": int(batch["num_items_in_batch"]), "metrics": metrics, "cases": cases}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "FledgeRLTests", "Fixtures", "tool_episodes")
    os.makedirs(out, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER)
    tokenizer.chat_template = ctu.qwen2_5_chat_template
    model_dir = os.path.join(out, "model")
    make_model(model_dir, tokenizer)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with tempfile.TemporaryDirectory() as work_dir:
        whole = run_batch(model_dir, tokenizer, TURNS, 256, work_dir)
        # The same episodes with row 0's answer too long for what is left of max_completion_length.
        cut_turns = [list(row) for row in TURNS]
        cut_turns[CUT_ROW][-1] = CUT_ANSWER
        before_answer = len(whole["rows"][CUT_ROW]["completion_ids"]) - len(
            tokenizer.encode(TURNS[CUT_ROW][-1], add_special_tokens=False))
        cut_length = before_answer + 6
        cut = run_batch(model_dir, tokenizer, cut_turns, cut_length, work_dir)
    fixture = {"prompts": PROMPTS, "max_tool_calling_iterations": MAX_TOOL_CALLING_ITERATIONS, "temperature": 0.8,
               "gradient_parameters": GRADIENT_PARAMETERS,
               "batches": [dict(whole, max_completion_length=256), dict(cut, max_completion_length=cut_length)]}
    with open(os.path.join(out, "episodes.json"), "w") as f:
        json.dump(fixture, f)
    for name, batch in [("whole", whole), ("cut", cut)]:
        print(name, batch["metrics"], [sum(r["tool_mask"]) for r in batch["rows"]], [c["loss"] for c in batch["cases"]])


if __name__ == "__main__":
    main()
