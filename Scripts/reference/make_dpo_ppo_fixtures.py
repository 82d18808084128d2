#!/usr/bin/env python3
"""Reference fixtures for Fledge's DPO, PPO and RLOO math, from TRL's own code.

How to run (from the repository root), with TRL 1.16 installed and TRL 1.12's PPO module
unpacked (TRL removed PPO after 1.12):

    /tmp/venv/bin/pip install trl==1.16.0 torch
    /tmp/venv/bin/pip download trl==1.12.0 --no-deps -d /tmp/trl112
    unzip -o /tmp/trl112/trl-1.12.0-*.whl 'trl/experimental/ppo/*' -d /tmp/trl112
    /tmp/venv/bin/python Scripts/reference/make_dpo_ppo_fixtures.py --ppo-dir /tmp/trl112/trl/experimental/ppo

Writes Tests/FledgeRLTests/Fixtures/dpo_ppo/{dpo,ppo,rloo}.json.

- DPO: `DPOTrainer._compute_loss` and `DPOTrainer.compute_ref_log_probs` (trl/trainer/dpo_trainer.py) run
  unmodified with a stub `self` and a stand-in model that returns the given per-token log-probs (TRL's fused
  LM head output: zero where the label is -100). Every loss type, loss lists with weights, the f-divergences,
  LD-DPO (`ld_alpha`) and WPO weighting; the loss, its gradient with respect to the policy's per-token
  log-probs, and the logged metrics.
- PPO: `masked_whiten` and `masked_mean` are TRL 1.12's functions; the rollout (rewards with the KL penalty,
  whitening, GAE) and the minibatch loss are inlined in `PPOTrainer.train`, so they are transcribed here
  line for line (trl/experimental/ppo/ppo_trainer.py of 1.12.0, lines 763-798 and 827-865, 882-893).
- RLOO: `RLOOTrainer._compute_loss` (trl/trainer/rloo_trainer.py) runs unmodified with a stub `self`; the
  advantages are inlined in `_generate_and_score_completions` (lines 1647-1699 of 1.16.0) and transcribed.

Inputs are float32 values; the math runs in float64 on them (the alpha-divergence case runs in float32,
because TRL looks its clamp up by dtype and knows no float64). Per-token tensors are written flat: the
completion tokens of sequence 0, then of sequence 1, ... (for DPO the chosen completions of all pairs, then
the rejected ones, TRL's batch order).
"""

import argparse
import contextlib
import importlib.util
import json
import math
import os
import sys
from collections import defaultdict
from types import SimpleNamespace

import torch

from trl.trainer.dpo_trainer import DPOTrainer
from trl.trainer.rloo_trainer import RLOOTrainer
from trl.trainer.utils import nanstd

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(REPO, "Tests", "FledgeRLTests", "Fixtures", "dpo_ppo")
f32, f64 = torch.float32, torch.float64


def values(tensor):
    """A tensor as a flat list of Python floats (float64 repr, so float32 inputs stay exact)."""
    return [float(v) for v in tensor.detach().to(f64).reshape(-1).tolist()]


def draw(generator, *shape, low=0.0, high=1.0):
    """float32 uniform values in [low, high)."""
    return (low + (high - low) * torch.rand(shape, generator=generator, dtype=f64)).to(f32)


def flat(padded, mask):
    """The masked entries of a [rows, T] tensor, row by row."""
    return padded[mask.bool()]


class Accelerator:
    """One process: gathering and reducing are the identity."""

    device = torch.device("cpu")

    def gather_for_metrics(self, tensor):
        return tensor

    def gather(self, tensor):
        return tensor

    def reduce(self, tensor, reduction="sum"):
        return tensor

    def unwrap_model(self, model):
        return model

    def autocast(self):
        return contextlib.nullcontext()


class FusedOutputModel(torch.nn.Module):
    """Stands in for a model called with `fused_lm_head=True`: returns fixed per-token outputs."""

    def __init__(self, **outputs):
        super().__init__()
        self.outputs = outputs
        self.is_gradient_checkpointing = False

    def forward(self, **kwargs):
        return SimpleNamespace(aux_loss=None, **self.outputs)


# ---------------------------------------------------------------------------------------------------------
# DPO
# ---------------------------------------------------------------------------------------------------------

DPO_PROMPT_LENGTHS = [3, 5, 2]
DPO_CHOSEN_LENGTHS = [5, 2, 7]
DPO_REJECTED_LENGTHS = [4, 6, 3]
# Per-sequence shifts of the policy against the reference: pairs 0 and 2 prefer chosen, pair 1 rejected.
DPO_CHOSEN_SHIFT = [0.8, -0.3, 1.5]
DPO_REJECTED_SHIFT = [-0.6, 0.4, -0.2]

DPO_CASES = [
    # name, loss_type, loss_weights, beta, label_smoothing, f_divergence_type, f_alpha, ld_alpha, use_weighting
    ("sigmoid", ["sigmoid"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("hinge", ["hinge"], None, 1.0, 0.0, "reverse_kl", 0.5, None, False),
    ("ipo", ["ipo"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("exo_pair", ["exo_pair"], None, 0.1, 1e-3, "reverse_kl", 0.5, None, False),
    ("nca_pair", ["nca_pair"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("robust", ["robust"], None, 0.1, 0.1, "reverse_kl", 0.5, None, False),
    ("bco_pair", ["bco_pair"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("sppo_hard", ["sppo_hard"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("aot", ["aot"], None, 0.1, 0.1, "reverse_kl", 0.5, None, False),
    ("aot_unpaired", ["aot_unpaired"], None, 0.1, 0.1, "reverse_kl", 0.5, None, False),
    ("apo_zero", ["apo_zero"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("apo_down", ["apo_down"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("discopop", ["discopop"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("sft", ["sft"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("sigmoid_norm", ["sigmoid_norm"], None, 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("rpo", ["sigmoid", "sft"], [1.0, 0.5], 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("mpo", ["sigmoid", "bco_pair", "sft"], [0.8, 0.2, 1.0], 0.1, 0.0, "reverse_kl", 0.5, None, False),
    ("forward_kl", ["sigmoid"], None, 0.1, 0.0, "forward_kl", 0.5, None, False),
    ("js_divergence", ["sigmoid"], None, 0.1, 0.0, "js_divergence", 0.5, None, False),
    ("alpha_divergence", ["sigmoid", "hinge"], None, 0.5, 0.0, "alpha_divergence", 0.3, None, False),
    ("ipo_forward_kl", ["ipo"], None, 0.1, 0.0, "forward_kl", 0.5, None, False),
    ("ld_alpha", ["sigmoid", "sft"], [1.0, 0.3], 0.1, 0.0, "reverse_kl", 0.5, 0.6, False),
    ("weighting", ["sigmoid", "bco_pair"], [1.0, 0.5], 0.1, 0.0, "reverse_kl", 0.5, None, True),
]
DISCOPOP_TAU = 0.05


def dpo_inputs(generator):
    """Padded inputs of 3 pairs as DataCollatorForPreference lays them out, and per-token model outputs."""
    pairs = len(DPO_PROMPT_LENGTHS)
    prompts = DPO_PROMPT_LENGTHS * 2
    completions = DPO_CHOSEN_LENGTHS + DPO_REJECTED_LENGTHS
    shifts = DPO_CHOSEN_SHIFT + DPO_REJECTED_SHIFT
    width = max(p + c for p, c in zip(prompts, completions))
    completion_mask = torch.zeros(2 * pairs, width, dtype=torch.long)
    attention_mask = torch.zeros(2 * pairs, width, dtype=torch.long)
    for row, (p, c) in enumerate(zip(prompts, completions)):
        completion_mask[row, p : p + c] = 1
        attention_mask[row, : p + c] = 1
    shift_mask = completion_mask[:, 1:]
    policy = -draw(generator, 2 * pairs, width - 1, low=0.05, high=2.5)
    noise = draw(generator, 2 * pairs, width - 1, low=-0.1, high=0.1)
    counts = shift_mask.sum(1, keepdim=True).to(f32)
    reference = policy + noise - torch.tensor(shifts, dtype=f32).unsqueeze(1) / counts
    reference = torch.clamp(reference, max=-0.01)
    mean_logits = draw(generator, 2 * pairs, width - 1, low=-3.0, high=1.0)
    log_sum_sq_probs = -draw(generator, 2 * pairs, width - 1, low=0.5, high=3.0)
    keep = shift_mask.to(f32)
    return {
        "input_ids": torch.randint(3, 50, (2 * pairs, width), generator=generator),
        "attention_mask": attention_mask,
        "completion_mask": completion_mask,
        "policy": policy * keep,
        "reference": reference * keep,
        "mean_logits": mean_logits * keep,
        "log_sum_sq_probs": log_sum_sq_probs * keep,
        "is_top1": draw(generator, 2 * pairs, width - 1) > 0.5,
        "entropy": draw(generator, 2 * pairs, width - 1, low=0.1, high=2.0) * keep,
    }


def dpo_case(inputs, name, loss_types, loss_weights, beta, label_smoothing, f_divergence, f_alpha, ld_alpha, weighting):
    dtype = f32 if f_divergence == "alpha_divergence" else f64
    policy = inputs["policy"].to(dtype).clone().requires_grad_(True)
    per_token = {key: inputs[key].to(dtype) for key in ("mean_logits", "log_sum_sq_probs", "entropy")}
    model = FusedOutputModel(log_probs=policy, is_top1=inputs["is_top1"], **per_token)
    reference_model = FusedOutputModel(log_probs=inputs["reference"].to(dtype))
    trainer = SimpleNamespace(
        model=model, ref_model=None, accelerator=Accelerator(), ld_alpha=ld_alpha, precompute_ref_logps=True,
        aux_loss_enabled=False, f_divergence_type=f_divergence, f_alpha_divergence_coef=f_alpha,
        loss_types=loss_types, loss_weights=loss_weights or [1.0] * len(loss_types), beta=beta,
        label_smoothing=label_smoothing, use_weighting=weighting, _total_train_tokens=0, _tp_size=1,
        args=SimpleNamespace(discopop_tau=DISCOPOP_TAU, gradient_checkpointing_kwargs=None),
        _metrics=defaultdict(lambda: defaultdict(list)),
    )
    batch = {key: inputs[key] for key in ("input_ids", "attention_mask", "completion_mask")}
    ref_chosen, ref_rejected = DPOTrainer.compute_ref_log_probs(trainer, reference_model, batch)
    batch.update(ref_chosen_logps=ref_chosen, ref_rejected_logps=ref_rejected)
    loss = DPOTrainer._compute_loss(trainer, model, batch, return_outputs=False)
    loss.backward()
    metrics = trainer._metrics["train"]
    names = ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins",
             "logps/chosen", "logps/rejected", "logits/chosen", "logits/rejected"]
    shift_mask = inputs["completion_mask"][:, 1:]
    return {
        "name": name, "loss_type": loss_types, "loss_weights": loss_weights, "beta": beta,
        "label_smoothing": label_smoothing, "f_divergence_type": f_divergence, "f_alpha_divergence_coef": f_alpha,
        "ld_alpha": ld_alpha, "use_weighting": weighting, "discopop_tau": DISCOPOP_TAU,
        "reference_chosen": values(ref_chosen), "reference_rejected": values(ref_rejected),
        "loss": float(loss.detach()), "policy_grad": values(flat(policy.grad, shift_mask)),
        "metrics": {key: float(metrics[key][0]) for key in names},
    }


def make_dpo(generator):
    inputs = dpo_inputs(generator)
    shift_mask = inputs["completion_mask"][:, 1:]
    return {
        "counts": shift_mask.sum(1).tolist(),
        "policy": values(flat(inputs["policy"], shift_mask)),
        "reference": values(flat(inputs["reference"], shift_mask)),
        "mean_logits": values(flat(inputs["mean_logits"], shift_mask)),
        "log_sum_sq_probs": values(flat(inputs["log_sum_sq_probs"], shift_mask)),
        "cases": [dpo_case(inputs, *case) for case in DPO_CASES],
    }


# ---------------------------------------------------------------------------------------------------------
# PPO
# ---------------------------------------------------------------------------------------------------------

INVALID_LOGPROB = 1.0  # ppo_trainer.py (1.12.0) line 69


def ppo_case(generator, ppo, name, sequence_lengths, args):
    masked_mean, masked_whiten = ppo.masked_mean, ppo.masked_whiten
    batch, width = len(sequence_lengths), args.response_length
    logprobs = -draw(generator, batch, width, low=0.05, high=3.0).to(f64)
    ref_logprobs = (logprobs.to(f32) + draw(generator, batch, width, low=-0.5, high=0.5)).to(f64)
    values_in = draw(generator, batch, width, low=-1.0, high=1.0).to(f64)
    scores = draw(generator, batch, low=-2.0, high=2.0).to(f64)
    sequence_lengths = torch.tensor(sequence_lengths)
    raw_logprobs, raw_ref_logprobs = logprobs.clone(), ref_logprobs.clone()

    # --- transcribed from PPOTrainer.train (ppo_trainer.py 1.12.0, lines 763-798) ---
    responses = torch.zeros(batch, width, dtype=torch.long)
    values_ = values_in
    response_idxs = torch.arange(responses.shape[1], device=responses.device).repeat(responses.shape[0], 1)
    padding_mask = response_idxs > sequence_lengths.unsqueeze(1)
    logprobs = torch.masked_fill(logprobs, padding_mask, INVALID_LOGPROB)
    ref_logprobs = torch.masked_fill(ref_logprobs, padding_mask, INVALID_LOGPROB)
    sequence_lengths_p1 = sequence_lengths + 1
    padding_mask_p1 = response_idxs > (sequence_lengths_p1.unsqueeze(1))
    values_ = torch.masked_fill(values_, padding_mask_p1, 0)
    logr = ref_logprobs - logprobs
    kl = -logr if args.kl_estimator == "k1" else (logr.exp() - 1) - logr  # Else statement is k3
    non_score_reward = -args.kl_coef * kl
    rewards = non_score_reward.clone()
    actual_start = torch.arange(rewards.size(0), device=rewards.device)
    actual_end = torch.where(sequence_lengths_p1 < rewards.size(1), sequence_lengths_p1, sequence_lengths)
    rewards[actual_start, actual_end] += scores
    if args.whiten_rewards:
        rewards = masked_whiten(rewards, mask=~padding_mask_p1, shift_mean=False)
        rewards = torch.masked_fill(rewards, padding_mask_p1, 0)
    lastgaelam = 0
    advantages_reversed = []
    gen_length = responses.shape[1]
    for t in reversed(range(gen_length)):
        nextvalues = values_[:, t + 1] if t < gen_length - 1 else 0.0
        delta = rewards[:, t] + args.gamma * nextvalues - values_[:, t]
        lastgaelam = delta + args.gamma * args.lam * lastgaelam
        advantages_reversed.append(lastgaelam)
    advantages = torch.stack(advantages_reversed[::-1], axis=1)
    returns = advantages + values_
    advantages = masked_whiten(advantages, ~padding_mask)
    advantages = torch.masked_fill(advantages, padding_mask, 0)
    # --- end of transcription ---

    # --- transcribed from PPOTrainer.train (lines 882-893): the rollout metrics ---
    mean_kl = kl.sum(1).mean()
    mean_entropy = ((-logprobs) * (~padding_mask).float()).sum(1).mean()
    mean_non_score_reward = non_score_reward.sum(1).mean()
    rlhf_reward = mean_non_score_reward + scores.mean()
    # --- end of transcription ---

    # One minibatch: all rows, in a shuffled order, as the PPO epochs take them.
    order = torch.randperm(batch, generator=generator)
    new_logprobs_in = (raw_logprobs.to(f32) + draw(generator, batch, width, low=-0.35, high=0.35)).to(f64)
    vpred_in = (values_in.to(f32) + draw(generator, batch, width, low=-0.45, high=0.45)).to(f64)
    new_logprobs_leaf = new_logprobs_in[order].clone().requires_grad_(True)
    vpred_leaf = vpred_in[order].clone().requires_grad_(True)

    # --- transcribed from PPOTrainer.train (lines 813-865), with mb = the rows in `order` ---
    micro_batch_inds = order
    mb_advantage = advantages[micro_batch_inds]
    mb_logprobs = logprobs[micro_batch_inds]
    mb_return = returns[micro_batch_inds]
    mb_values = values_[micro_batch_inds]
    new_logprobs = torch.masked_fill(new_logprobs_leaf, padding_mask[micro_batch_inds], INVALID_LOGPROB)
    vpred = torch.masked_fill(vpred_leaf, padding_mask_p1[micro_batch_inds], 0)
    vpredclipped = torch.clamp(vpred, mb_values - args.cliprange_value, mb_values + args.cliprange_value)
    vf_losses1 = torch.square(vpred - mb_return)
    vf_losses2 = torch.square(vpredclipped - mb_return)
    vf_loss_max = torch.max(vf_losses1, vf_losses2)
    vf_loss = 0.5 * masked_mean(vf_loss_max, ~padding_mask_p1[micro_batch_inds])
    vf_clipfrac = masked_mean((vf_losses2 > vf_losses1).float(), ~padding_mask_p1[micro_batch_inds])
    logprobs_diff = new_logprobs - mb_logprobs
    ratio = torch.exp(logprobs_diff)
    pg_losses = -mb_advantage * ratio
    pg_losses2 = -mb_advantage * torch.clamp(ratio, 1.0 - args.cliprange, 1.0 + args.cliprange)
    pg_loss_max = torch.max(pg_losses, pg_losses2)
    pg_loss = masked_mean(pg_loss_max, ~padding_mask[micro_batch_inds])
    loss = pg_loss + args.vf_coef * vf_loss
    loss.backward()
    with torch.no_grad():
        pg_clipfrac = masked_mean((pg_losses2 > pg_losses).float(), ~padding_mask[micro_batch_inds])
        approxkl = 0.5 * (logprobs_diff**2).mean()
    # --- end of transcription ---

    return {
        "name": name,
        "config": vars(args),
        "sequence_lengths": sequence_lengths.tolist(),
        "logprobs": values(raw_logprobs), "ref_logprobs": values(raw_ref_logprobs),
        "values": values(values_in), "scores": values(scores),
        "expected_rewards": values(rewards), "expected_kl": values(kl),
        "expected_advantages": values(advantages), "expected_returns": values(returns),
        "minibatch_rows": order.tolist(),
        "new_logprobs": values(new_logprobs_leaf), "value_predictions": values(vpred_leaf),
        "loss": float(loss.detach()), "new_logprobs_grad": values(new_logprobs_leaf.grad),
        "value_predictions_grad": values(vpred_leaf.grad),
        "metrics": {
            "objective/kl": float(mean_kl), "objective/entropy": float(mean_entropy),
            "objective/non_score_reward": float(mean_non_score_reward), "objective/rlhf_reward": float(rlhf_reward),
            "objective/scores": float(scores.mean()),
            "policy/approxkl_avg": float(approxkl), "policy/clipfrac_avg": float(pg_clipfrac),
            "loss/policy_avg": float(pg_loss), "loss/value_avg": float(vf_loss),
            "val/clipfrac_avg": float(vf_clipfrac), "val/ratio": float(ratio.mean()),
        },
    }


def make_ppo(generator, ppo):
    k1 = SimpleNamespace(response_length=7, kl_coef=0.05, kl_estimator="k1", whiten_rewards=False, gamma=1.0,
                         lam=0.95, cliprange=0.2, cliprange_value=0.2, vf_coef=0.1)
    k3 = SimpleNamespace(response_length=9, kl_coef=0.2, kl_estimator="k3", whiten_rewards=True, gamma=0.97,
                         lam=0.9, cliprange=0.15, cliprange_value=0.25, vf_coef=0.3)
    return {"cases": [
        ppo_case(generator, ppo, "k1", [6, 2, 4, 5], k1),
        ppo_case(generator, ppo, "k3_whiten", [8, 1, 5, -1, 3], k3),
    ]}


# ---------------------------------------------------------------------------------------------------------
# RLOO
# ---------------------------------------------------------------------------------------------------------

def rloo_advantages(rewards, old_per_token_logps, ref_per_token_logps, completion_mask, beta, num_generations,
                    reward_clip_range, normalize_advantages):
    """Transcribed from RLOOTrainer._generate_and_score_completions (rloo_trainer.py 1.16.0, lines 1659-1699,
    1712-1716 and 1728), starting from the weighted reward sum (NaN = unscorable)."""
    metrics = {}
    if reward_clip_range:
        rewards = rewards.clamp(min=reward_clip_range[0], max=reward_clip_range[1])
    if beta != 0.0:
        per_token_kl = old_per_token_logps - ref_per_token_logps
        kl = (per_token_kl * completion_mask).sum(-1)
        rewards = rewards - beta * kl
    grouped_rewards = rewards.view(-1, num_generations)
    std_rewards = nanstd(grouped_rewards, dim=1)
    scorable_counts = (~torch.isnan(grouped_rewards)).sum(dim=1, keepdim=True)
    grouped_sum = torch.nansum(grouped_rewards, dim=1, keepdim=True)
    baselines = (grouped_sum - grouped_rewards) / (scorable_counts - 1)
    baselines = baselines.view(-1)
    advantages = rewards - baselines
    if normalize_advantages:
        advantages = (advantages - torch.nanmean(advantages)) / (nanstd(advantages) + 1e-4)
    advantages = torch.nan_to_num(advantages, nan=0.0)
    metrics["frac_reward_zero_std"] = float(torch.isclose(std_rewards, torch.zeros_like(std_rewards)).float().mean())
    if beta != 0.0:
        kl_stats = torch.stack([(per_token_kl * completion_mask).sum(), completion_mask.sum().float()])
        metrics["kl"] = float(kl_stats[0] / kl_stats[1].clamp(min=1.0))
    return advantages, metrics


def rloo_case(generator, name, lengths, rewards, num_generations, beta, clip_range, normalize, epsilon, epsilon_high,
              drift):
    rows, width = len(lengths), max(lengths) + 1
    mask = torch.zeros(rows, width, dtype=f64)
    for row, length in enumerate(lengths):
        mask[row, :length] = 1
    old = -draw(generator, rows, width, low=0.05, high=2.0).to(f64) * mask
    ref = (old.to(f32) + draw(generator, rows, width, low=-0.4, high=0.4)).to(f64) * mask
    rewards = torch.tensor(rewards, dtype=f64)
    advantages, metrics = rloo_advantages(rewards, old, ref, mask, beta, num_generations, clip_range, normalize)
    old_logps = (old * mask).sum(1)
    new = (old.to(f32) + draw(generator, rows, width, low=-drift, high=drift)).to(f64) * mask
    new.requires_grad_(True)
    trainer = SimpleNamespace(
        model=FusedOutputModel(), accelerator=Accelerator(), aux_loss_enabled=False,
        epsilon_low=epsilon, epsilon_high=epsilon_high, _metrics=defaultdict(lambda: defaultdict(list)),
        _get_per_token_logps_and_entropies=lambda *args, **kwargs: (new, torch.zeros_like(new), None),
    )
    inputs = {
        "prompt_ids": torch.zeros(rows, 2, dtype=torch.long), "prompt_mask": torch.ones(rows, 2, dtype=torch.long),
        "completion_ids": torch.zeros(rows, width, dtype=torch.long), "completion_mask": mask,
        "old_logps": old_logps, "advantages": advantages,
    }
    loss = RLOOTrainer._compute_loss(trainer, trainer.model, inputs)
    loss.backward()
    logged = trainer._metrics["train"]
    for key in ("clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean"):
        metrics[key] = float(logged[key][0])
    return {
        "name": name, "counts": lengths, "rewards": [None if math.isnan(r) else r for r in rewards.tolist()],
        "num_generations": num_generations, "beta": beta, "reward_clip_range": clip_range,
        "normalize_advantages": normalize, "epsilon": epsilon, "epsilon_high": epsilon_high,
        "old_logprobs": values(flat(old, mask)), "ref_logprobs": values(flat(ref, mask)),
        "new_logprobs": values(flat(new, mask)),
        "expected_advantages": values(advantages), "loss": float(loss.detach()),
        "new_logprobs_grad": values(flat(new.grad, mask)), "metrics": metrics,
    }


def make_rloo(generator):
    nan = float("nan")
    return {"cases": [
        rloo_case(generator, "kl", [4, 2, 5, 3, 6, 1], [1.0, 0.25, -0.5, 0.75, nan, 0.5], 3, 0.05, None, False, 0.2, 0.28, 0.3),
        rloo_case(generator, "normalized_clipped", [3, 5, 2, 4, 1, 6, 2, 3], [2.0, -1.0, 0.5, 1.5, 0.0, 3.0, nan, nan],
                  4, 0.0, [-0.8, 1.8], True, 0.1, 0.1, 0.15),
        rloo_case(generator, "zero_spread", [2, 3, 1, 4], [1.0, 1.0, 0.5, 0.25], 2, 0.0, None, False, 0.2, 0.2, 0.2),
    ]}


def load_ppo(directory):
    """TRL 1.12's `trl.experimental.ppo`, from the installed TRL or from `directory`."""
    try:
        from trl.experimental.ppo import ppo_trainer
        return ppo_trainer
    except ImportError:
        if directory is None:
            sys.exit("this TRL has no trl.experimental.ppo; pass --ppo-dir with TRL 1.12's trl/experimental/ppo")
    spec = importlib.util.spec_from_file_location(
        "trl.experimental.ppo", os.path.join(directory, "__init__.py"), submodule_search_locations=[directory])
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    from trl.experimental.ppo import ppo_trainer
    return ppo_trainer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ppo-dir", help="TRL 1.12's trl/experimental/ppo, when the installed TRL has none")
    args = parser.parse_args()
    ppo = load_ppo(args.ppo_dir)
    generator = torch.Generator().manual_seed(0)
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, content in (("dpo", make_dpo(generator)), ("ppo", make_ppo(generator, ppo)), ("rloo", make_rloo(generator))):
        with open(os.path.join(OUT_DIR, f"{name}.json"), "w") as file:
            json.dump(content, file, separators=(",", ":"))
        print(f"wrote {name}.json")


if __name__ == "__main__":
    main()
