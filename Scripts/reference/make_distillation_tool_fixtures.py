"""What TRL 1.16's DistillationTrainer computes on a batch of multi-turn completions with tool results, for Fledge's
distillation-with-tools tests.

    python3 Scripts/reference/make_distillation_tool_fixtures.py [OUT_FILE]

With tools, TRL's `DistillationTrainer._generate` returns a `tool_mask` (0 on the tool-result tokens its tool loop
spliced into a completion, 1 elsewhere), `_prepare_inputs` pads it with 1 and takes `num_items_in_batch` as the sum of
`completion_mask * tool_mask`, and `_compute_loss` runs the chunked divergence over that loss mask: both models score
the whole sequences, tool results included, and only the student's tokens count. This script runs `_compute_loss` on
the distillation fixtures' batch (Scripts/reference/make_distillation_fixtures.py: the SFT fixtures' tiny Qwen2 as the
student, the committed `distill/teacher`) with tool masks over parts of two completions, for beta 0, 0.5 and 1, and
writes to OUT_FILE (default Tests/FledgeRLTests/Fixtures/distill/tool_mask.json) the batch, the masks and per case
the loss, the `entropy` metric, `num_items_in_batch`, and the gradients of two student weights computed in float64 by
TRL's full-logits `generalized_jsd_loss` with the masked positions as ignored labels (the script checks that its loss
equals `_compute_loss`'s within 1e-6).
"""
import json
import os
import sys

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import DistillationConfig, DistillationTrainer
from trl.experimental.gkd import GKDTrainer

from make_distillation_fixtures import padded_batch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUDENT = os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/sft/model")
TEACHER = os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/distill/teacher")

CASES = {"beta0": 0.0, "beta05": 0.5, "beta1": 1.0}
WEIGHTS = ["model.layers.0.self_attn.q_proj.weight", "model.norm.weight"]
PROMPTS = [[5, 17, 301, 44], [900, 12], [77, 78, 79, 80, 81, 82]]
# Row 0: a call, a tool result (masked), the answer; row 1 has no tool call; row 2 a result of one token.
COMPLETIONS = [[400, 33, 1203, 61, 62, 63, 1204, 70, 1202], [8, 9, 10, 11, 12], [1000, 1203, 7, 1204, 1202]]
TOOL_MASKS = [[1, 1, 1, 0, 0, 0, 0, 1, 1], [1, 1, 1, 1, 1], [1, 1, 0, 1, 1]]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests/FledgeRLTests/Fixtures/distill/tool_mask.json")
    student = AutoModelForCausalLM.from_pretrained(STUDENT, dtype=torch.float32)
    teacher = AutoModelForCausalLM.from_pretrained(TEACHER, dtype=torch.float32)
    student64 = AutoModelForCausalLM.from_pretrained(STUDENT, dtype=torch.float64)
    teacher64 = AutoModelForCausalLM.from_pretrained(TEACHER, dtype=torch.float64)
    tokenizer = AutoTokenizer.from_pretrained(STUDENT)
    inputs = padded_batch(PROMPTS, COMPLETIONS, tokenizer.pad_token_id)
    # TRL's `_prepare_inputs` pads the tool mask with 1 (the completion mask zeroes the padding).
    width_c = max(map(len, COMPLETIONS))
    inputs["tool_mask"] = torch.tensor([m + [1] * (width_c - len(m)) for m in TOOL_MASKS])
    loss_mask = inputs["completion_mask"] * inputs["tool_mask"]
    items = loss_mask.sum().float()
    dataset = Dataset.from_list([{"prompt": "unused"}] * 3)
    expected = {"prompts": PROMPTS, "completions": COMPLETIONS, "tool_masks": TOOL_MASKS, "cases": {}}
    for name, beta in CASES.items():
        args = DistillationConfig(output_dir=os.path.join("/tmp", "distill-tool-fixture"), beta=beta, temperature=1.0,
                                  learning_rate=0.0, per_device_train_batch_size=3, bf16=False, use_cpu=True,
                                  report_to=[], max_completion_length=16, gradient_checkpointing=False)
        trainer = DistillationTrainer(model=student, teacher_model=teacher, args=args, train_dataset=dataset,
                                      processing_class=tokenizer)
        loss, entropy_sum, valid = trainer._compute_loss(student, inputs, items)
        assert valid.item() == items.item(), (valid, items)
        # Float64 gradients of the same masked loss: TRL's full-logits form, masked positions as ignored labels.
        input_ids = torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], dim=1)
        attention_mask = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], dim=1)
        student64.zero_grad()
        student_logits = student64(input_ids=input_ids, attention_mask=attention_mask).logits[:, -width_c - 1:-1]
        with torch.no_grad():
            teacher_logits = teacher64(input_ids=input_ids, attention_mask=attention_mask).logits[:, -width_c - 1:-1]
        labels = inputs["completion_ids"].masked_fill(loss_mask == 0, -100)
        exact = GKDTrainer.generalized_jsd_loss(student_logits, teacher_logits, labels=labels, beta=beta, temperature=1.0,
                                                num_items_in_batch=items.double())
        exact.backward()
        assert abs(exact.item() - loss.item()) <= 1e-6 * abs(exact.item()), (name, exact.item(), loss.item())
        named = dict(student64.named_parameters())
        expected["cases"][name] = {
            "beta": beta, "loss": loss.item(), "entropy": (entropy_sum / valid).item(),
            "num_items_in_batch": int(items.item()),
            "gradients": {w: named[w].grad.flatten().tolist() for w in WEIGHTS},
        }
        print(f"{name}: loss {loss.item():.8g} (float64 {exact.item():.10g}), entropy {(entropy_sum / valid).item():.6g}, "
              f"num_items_in_batch {int(items.item())}")
    with open(out, "w") as f:
        json.dump(expected, f)


if __name__ == "__main__":
    main()
