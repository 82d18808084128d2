"""RLOO over multi-turn tool episodes: TRL 1.16's RLOO loss code on the tool-masked batch.

    python3 Scripts/reference/make_rloo_tool_fixtures.py [OUT_DIR]  (default Tests/FledgeRLTests/Fixtures/tool_episodes)

TRL 1.16's RLOOTrainer has no tools, so Fledge's RLOO with tools is a departure: it masks tool-result tokens out of
RLOO's loss as GRPO's `tool_mask` masks them out of GRPO's, i.e. RLOO's `completion_mask` becomes
`completion_mask * tool_mask` in its sums (attention still covers every token, as in GRPO). This script takes the
episodes of `make_tool_episode_fixtures.py` (the same tiny Qwen2
in OUT_DIR/model, the same scripted turns, TRL's GRPOTrainer tool loop making prompt ids, completion ids and the tool
mask) and runs `RLOOTrainer._compute_loss` — TRL's own RLOO loss and its `_get_per_token_logps_and_entropies`, given the
whole attention mask — on that batch with `completion_mask * tool_mask`, fixed advantages and old sequence log-probabilities (the masked sums
under the model plus `OLD_OFFSETS`, so that the clipped and unclipped branches both occur). The masked sums, the
loss and the gradients of two parameters are recorded. (A sequence ratio exponentiates a sum of ~100 log-probs, so
the test rebuilds the old log-probs from its own sums and the offsets: the ratios are then TRL's exactly, and the
sums are compared on their own.)

Writes OUT_DIR/rloo_episodes.json: per batch of episodes.json, the advantages, the masked sequence log-probs, the
old offsets and old sequence log-probs, epsilon, loss, gradients and TRL's clip-ratio and entropy metrics.
"""
import json
import os
import sys
import tempfile
import types

import torch
from transformers import AutoTokenizer
from trl import RLOOTrainer

sys.path.insert(0, os.path.dirname(__file__))
from make_tool_episode_fixtures import (CUT_ANSWER, CUT_ROW, GRADIENT_PARAMETERS, ROOT, TURNS,  # noqa: E402
                                        generate_batch)

ADVANTAGES = [0.75, -0.75, 0.5, -0.5]
# Added to each row's masked log-prob sum to make its old log-prob: ratios exp(-offset) on both sides of the clip.
OLD_OFFSETS = [0.3, -0.3, -0.05, 0.4]


def rloo_case(trainer, batch):
    mask = batch["completion_mask"] * batch["tool_mask"]
    inputs = {"prompt_ids": batch["prompt_ids"], "prompt_mask": batch["prompt_mask"],
              "completion_ids": batch["completion_ids"], "completion_mask": mask}
    input_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention_mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)

    # The tool mask leaves tokens out of the loss's sums, not out of attention: every completion token stays visible
    # to the ones after it (as in GRPOTrainer, whose attention mask is completion_mask alone). RLOO's _compute_loss
    # builds its attention mask from the completion_mask it sums with, so its forward gets the whole mask back here.
    def logps_attending_to_every_token(self, model, ids, _attention_mask, logits_to_keep, *args, **kwargs):
        assert ids.shape == input_ids.shape
        return RLOOTrainer._get_per_token_logps_and_entropies(self, model, ids, attention_mask, logits_to_keep, *args,
                                                              **kwargs)

    trainer._get_per_token_logps_and_entropies = types.MethodType(logps_attending_to_every_token, trainer)
    with torch.no_grad():
        per_token, _, _ = trainer._get_per_token_logps_and_entropies(trainer.model, input_ids, attention_mask,
                                                                     batch["completion_ids"].size(1))
    sums = (per_token * mask).sum(1)
    old = sums + torch.tensor(OLD_OFFSETS)
    inputs["old_logps"] = old
    inputs["advantages"] = torch.tensor(ADVANTAGES)
    trainer._metrics["train"].clear()
    trainer.model.zero_grad()
    loss = RLOOTrainer._compute_loss(trainer, trainer.model, inputs)
    loss.backward()
    parameters = dict(trainer.model.named_parameters())
    metrics = {name: values[-1] for name, values in trainer._metrics["train"].items()}
    return {"advantages": ADVANTAGES, "sequence_logps": sums.tolist(), "old_offsets": OLD_OFFSETS,
            "old_sequence_logps": old.tolist(), "epsilon_low": trainer.epsilon_low,
            "epsilon_high": trainer.epsilon_high, "tool_mask": [m[:int(c.sum())].tolist() for m, c in
                                                                 zip(batch["tool_mask"], batch["completion_mask"])],
            "loss": loss.item(), "metrics": metrics,
            "gradients": {name: parameters[name].grad.flatten().tolist() for name in GRADIENT_PARAMETERS}}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "FledgeRLTests", "Fixtures", "tool_episodes")
    model_dir = os.path.join(out, "model")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    with open(os.path.join(out, "episodes.json")) as f:
        episodes = json.load(f)
    cut_turns = [list(row) for row in TURNS]
    cut_turns[CUT_ROW][-1] = CUT_ANSWER
    cases = []
    with tempfile.TemporaryDirectory() as work_dir:
        for turns, recorded in zip([TURNS, cut_turns], episodes["batches"]):
            trainer, batch = generate_batch(model_dir, tokenizer, turns, recorded["max_completion_length"], work_dir)
            case = rloo_case(trainer, batch)
            # The same episodes as episodes.json records (the RLOO case is about the loss on them).
            assert case["tool_mask"] == [row["tool_mask"] for row in recorded["rows"]], "episodes differ from episodes.json"
            del case["tool_mask"]
            cases.append(case)
    with open(os.path.join(out, "rloo_episodes.json"), "w") as f:
        json.dump({"temperature": episodes["temperature"], "gradient_parameters": GRADIENT_PARAMETERS, "batches": cases}, f)
    for case in cases:
        print(case["loss"], case["metrics"])


if __name__ == "__main__":
    main()
