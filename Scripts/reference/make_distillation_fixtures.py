"""What TRL 1.16's DistillationTrainer computes on a fixed batch, for Fledge's distillation tests.

    python3 Scripts/reference/make_distillation_fixtures.py [OUT_DIR]

The student is the SFT fixtures' tiny Qwen2 (Tests/FledgeRLTests/Fixtures/sft/model: hidden 24, one
layer, tied head, vocabulary 1205). Writes, under OUT_DIR (default Tests/FledgeRLTests/Fixtures/distill):

- `teacher/`: a wider, deeper random Qwen2 with the student's vocabulary (hidden 32, two layers, a
  head of its own), with a flatter head than the student's;
- `expected.json`: the batch (prompt and completion token ids of three rows of different lengths:
  TRL's on-policy sampling is replaced by these given completions, since sampling streams differ)
  and, per case (beta 0, 0.5, 1 at temperature 1, and beta 0.5 and 0 at temperatures ≠ 1), the loss
  and the `entropy` metric of `DistillationTrainer._compute_loss` (the chunked divergence with
  `num_items_in_batch` the batch's completion tokens), and the names of the weights whose gradients
  are recorded;
- `gradients.safetensors`: `<case>/<weight>` the gradients of those student weights after
  `backward()` of the loss (one step's gradients; with learning rate 0 nothing moves), computed in
  float64 by TRL's own generalized JSD of the same math on the full logits
  (`GKDTrainer.generalized_jsd_loss`, which `DistillationTrainer`'s chunked kernel replaced): the script
  checks that its loss equals `_compute_loss`'s, and records in `expected.json` how far the chunked
  kernel's float32 gradients are from it (`trl_float32_gradient_error`, relative to each weight's
  largest gradient). Where the divergence saturates (beta 0.5 here) that kernel's own float32 error
  reaches 2e-4 of the largest gradient, above the 1e-4 the tests ask of Fledge, so float64 is the reference.
"""
import copy
import json
import os
import sys

import torch
from datasets import Dataset
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config, Qwen2ForCausalLM
from trl import DistillationConfig, DistillationTrainer
from trl.experimental.gkd import GKDTrainer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_model_fixtures import randomize  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUDENT = os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/sft/model")

CASES = {"beta0": (0.0, 1.0), "beta05": (0.5, 1.0), "beta1": (1.0, 1.0), "beta05_t07": (0.5, 0.7), "beta0_t15": (0.0, 1.5)}
WEIGHTS = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.mlp.down_proj.weight",
           "model.norm.weight"]
# Three rows: prompts and completions of different lengths (the completions end at the EOS, 1202, or are truncated).
PROMPTS = [[5, 17, 301, 44], [900, 12], [77, 78, 79, 80, 81, 82]]
COMPLETIONS = [[400, 33, 1202], [8, 9, 10, 11, 12], [1000, 1202]]


def padded_batch(prompts, completions, pad):
    """TRL's generation batch: prompts left-padded, completions right-padded, with their masks."""
    width_p, width_c = max(map(len, prompts)), max(map(len, completions))
    return {
        "prompt_ids": torch.tensor([[pad] * (width_p - len(p)) + p for p in prompts]),
        "prompt_mask": torch.tensor([[0] * (width_p - len(p)) + [1] * len(p) for p in prompts]),
        "completion_ids": torch.tensor([c + [pad] * (width_c - len(c)) for c in completions]),
        "completion_mask": torch.tensor([[1] * len(c) + [0] * (width_c - len(c)) for c in completions]),
    }


def float64_gradients(student, teacher, inputs, items, beta, temperature):
    """The loss and student gradients of TRL's `generalized_jsd_loss` on the float64 models' full logits."""
    input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
    attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
    width = inputs["completion_ids"].size(1)
    student.zero_grad()
    student_logits = student(input_ids=input_ids, attention_mask=attention_mask).logits[:, -width - 1:-1]
    with torch.no_grad():
        teacher_logits = teacher(input_ids=input_ids, attention_mask=attention_mask).logits[:, -width - 1:-1]
    labels = inputs["completion_ids"].masked_fill(inputs["completion_mask"] == 0, -100)
    loss = GKDTrainer.generalized_jsd_loss(student_logits, teacher_logits, labels=labels, beta=beta,
                                           temperature=temperature, num_items_in_batch=items.double())
    loss.backward()
    return loss.item(), {name: p.grad.detach().clone() for name, p in student.named_parameters()}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/distill")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    student = AutoModelForCausalLM.from_pretrained(STUDENT, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(STUDENT)
    config = Qwen2Config(vocab_size=student.config.vocab_size, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=128,
                         tie_word_embeddings=False, eos_token_id=student.config.eos_token_id,
                         pad_token_id=student.config.pad_token_id, rms_norm_eps=1e-6)
    teacher = Qwen2ForCausalLM(config).float()
    randomize(teacher, torch.Generator().manual_seed(23), head_scale=1.0)
    teacher.save_pretrained(os.path.join(out, "teacher"))
    tokenizer.save_pretrained(os.path.join(out, "teacher"))

    inputs = padded_batch(PROMPTS, COMPLETIONS, tokenizer.pad_token_id)
    items = torch.tensor(float(sum(map(len, COMPLETIONS))))
    dataset = Dataset.from_list([{"prompt": "unused"}] * 3)
    expected = {"prompts": PROMPTS, "completions": COMPLETIONS, "weights": WEIGHTS, "cases": {}}
    gradients = {}
    student64 = AutoModelForCausalLM.from_pretrained(STUDENT, dtype=torch.float64)
    teacher64 = copy.deepcopy(teacher).double()
    for name, (beta, temperature) in CASES.items():
        args = DistillationConfig(output_dir=os.path.join("/tmp", "distill-fixture"), beta=beta, temperature=temperature,
                                  learning_rate=0.0, per_device_train_batch_size=3, bf16=False, use_cpu=True,
                                  report_to=[], max_completion_length=8, gradient_checkpointing=False)
        trainer = DistillationTrainer(model=student, teacher_model=teacher, args=args, train_dataset=dataset,
                                      processing_class=tokenizer)
        student.zero_grad()
        loss, entropy_sum, valid = trainer._compute_loss(student, inputs, items)
        loss.backward()
        named = dict(student.named_parameters())
        exact_loss, exact = float64_gradients(student64, teacher64, inputs, items, beta, temperature)
        assert abs(exact_loss - loss.item()) <= 1e-6 * abs(exact_loss), (name, exact_loss, loss.item())
        kernel_error = {}
        for weight in WEIGHTS:
            reference = exact[weight]
            gradients[f"{name}/{weight}"] = reference.float().contiguous()
            kernel_error[weight] = ((named[weight].grad.double() - reference).abs().max() / reference.abs().max()).item()
        expected["cases"][name] = {"beta": beta, "temperature": temperature, "loss": loss.item(),
                                   "entropy": (entropy_sum / valid).item(), "num_items_in_batch": items.item(),
                                   "trl_float32_gradient_error": kernel_error}
        print(f"{name}: loss {loss.item():.8g} (float64 {exact_loss:.10g}), entropy {(entropy_sum / valid).item():.6g}, "
              f"TRL float32 kernel gradient error {max(kernel_error.values()):.2g}")
    save_file(gradients, os.path.join(out, "gradients.safetensors"))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
