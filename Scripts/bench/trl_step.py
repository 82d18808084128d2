"""What the TRL trainer-step benchmarks (`trl_dpo.py`, `trl_kto.py`, `trl_reward.py`, `trl_distill.py`) share: the
tokenizer fixture their trainers need for a pad token, the fixed token ids they train on, and the timed optimizer
step — the trainer's own loss and backward, gradient clipping to `max_grad_norm` and its AdamW step — with the JSON
line each prints."""
import json
import os
import resource
import time

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOKENIZER = os.path.join(ROOT, "Tests", "FledgeRLTests", "Fixtures", "sft", "model")


def token_ids(rows, length):
    """`rows` rows of `length` fixed token ids of the SmolLM2 vocabulary (the ids `fledge bench` uses)."""
    return [[(t * 7919 + row * 104729 + 17) % 49152 for t in range(length)] for row in range(rows)]


def fastest_step(trainer, loss_and_backward, runs, name, gradient_checkpointing=False):
    """Seconds of the fastest of `runs` optimizer steps after a warm-up step: `loss_and_backward()` (which returns
    the loss after its backward), clipping and the optimizer step. Sets up what `Trainer.train` would, which these
    scripts bypass: gradient checkpointing, the optimizer, one accumulation step, training mode."""
    if gradient_checkpointing:
        trainer.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    trainer.create_optimizer()
    trainer.current_gradient_accumulation_steps = 1
    trainer.model.train()
    parameters = [p for p in trainer.model.parameters() if p.requires_grad]
    best = float("inf")
    for run in range(runs + 1):
        start = time.perf_counter()
        loss = loss_and_backward()
        torch.nn.utils.clip_grad_norm_(parameters, trainer.args.max_grad_norm)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - start
        assert torch.isfinite(loss), f"the {name} loss is {loss}"
        if run > 0:
            best = min(best, seconds)
    return best


def report(fields, step_seconds):
    """Prints `fields` with the step's seconds, the process's peak resident memory and torch's thread count."""
    print(json.dumps({**fields, "step_seconds": round(step_seconds, 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "threads": torch.get_num_threads()}), flush=True)
