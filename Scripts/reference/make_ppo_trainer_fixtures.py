"""One PPO rollout and one micro-batch on real (tiny) models, as TRL 1.12's PPOTrainer computes them.

    python3 Scripts/reference/make_ppo_trainer_fixtures.py --ppo-dir /tmp/trl112/trl/experimental/ppo [OUT_DIR]

(TRL removed PPO after 1.12; see make_dpo_ppo_fixtures.py for unpacking its module.) Uses the tiny Qwen2
model and tokenizer of the SFT fixtures (Tests/FledgeRLTests/Fixtures/sft/model) and writes, under OUT_DIR
(default Tests/FledgeRLTests/Fixtures/ppo):

- `policy_adapter/`: LoRA (q/v projections) with random non-zero A and B, so that the policy differs from the
  reference (the base model, adapters disabled); `policy_adapter_updated/`: the same adapter moved a little, as
  after an optimizer step;
- `heads.safetensors`: the one-label `score` heads of the value model (`value`, and `value_updated`) and of the
  reward model (`reward`); both models are the SFT model's weights with that head
  (`AutoModelForSequenceClassification` of the policy's directory, TRL's way of making a value model);
- `expected.json`: the left-padded prompts, the sampled responses (given, padded as `generate` pads them), and
  from TRL's code: the rollout (log-probs, reference log-probs, values, scores after `missing_eos_penalty`,
  sequence lengths, rewards with the k3 KL penalty, GAE advantages and returns, the rollout metrics), then the
  loss of one micro-batch of rows [2, 0, 3] with the updated weights, its metrics, and `gradients.safetensors`.

The rollout is transcribed from `PPOTrainer.train` (ppo_trainer.py of 1.12.0, lines 688-798), using TRL's own
`forward`, `get_reward`, `truncate_response`, `first_true_indices`, `selective_log_softmax` and `masked_whiten`.
One difference: TRL takes the rollout's log-probs from the logits `generate` returns; here they come from a
forward pass of the same sequences (the same numbers up to float rounding).
"""
import argparse
import json
import os
import shutil
import sys

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_dpo_ppo_fixtures import load_ppo  # noqa: E402

ARGS = dict(response_length=6, temperature=0.7, missing_eos_penalty=1.0, kl_coef=0.05, kl_estimator="k3",
            whiten_rewards=False, gamma=1.0, lam=0.95, cliprange=0.2, vf_coef=0.1, cliprange_value=0.2)
PROMPTS = ["2 + 2 =", "The capital of France is", "Say hi:", "Count to three:"]
MICRO_BATCH = [2, 0, 3]
INVALID_LOGPROB = 1.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ppo-dir", help="TRL 1.12's trl/experimental/ppo, when the installed TRL has none")
    parser.add_argument("out", nargs="?")
    options = parser.parse_args()
    ppo = load_ppo(options.ppo_dir)
    utils = sys.modules["trl.experimental.utils"]
    from trl.trainer.utils import selective_log_softmax
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = options.out or os.path.join(root, "Tests/FledgeRLTests/Fixtures/ppo")
    model_dir = os.path.join(root, "Tests/FledgeRLTests/Fixtures/sft/model")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    args = type("Args", (), ARGS)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    generator = torch.Generator().manual_seed(3)

    policy = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32),
                            LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, parameter in policy.named_parameters():
            if "lora_" in name:
                parameter.copy_(0.12 * torch.randn(parameter.shape, generator=generator))
    policy.save_pretrained(os.path.join(out, "policy_adapter"))

    def classifier():
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=1, dtype=torch.float32)
        model.config.pad_token_id = pad
        with torch.no_grad():
            model.score.weight.copy_(torch.randn(model.score.weight.shape, generator=generator) / 3)
        return model
    value_model, reward_model = classifier(), classifier()
    heads = {"value": value_model.score.weight.detach().clone(), "reward": reward_model.score.weight.detach().clone()}

    # Left-padded prompts; responses as `generate` returns them (pad after the EOS that ends a row).
    prompt_ids = [tokenizer(prompt)["input_ids"] for prompt in PROMPTS]
    width = max(len(ids) for ids in prompt_ids)
    queries = torch.tensor([[pad] * (width - len(ids)) + ids for ids in prompt_ids])
    vocabulary = [i for i in range(3, len(tokenizer)) if i not in (pad, eos)]
    draw = lambda n: [vocabulary[int(i)] for i in torch.randint(len(vocabulary), (n,), generator=generator)]  # noqa: E731
    T = args.response_length
    responses = torch.tensor([draw(3) + [eos] + [pad] * 2, draw(6), [eos] + [pad] * 5, draw(2) + [eos] + [pad] * 3])
    context_length = queries.shape[1]
    query_responses = torch.cat((queries, responses), 1)

    # --- transcribed from PPOTrainer.train (ppo_trainer.py 1.12.0, lines 717-798) ---
    with torch.no_grad():
        output = ppo.forward(policy, query_responses, pad)
        logits = output.logits[:, context_length - 1 : -1] / (args.temperature + 1e-7)
        logprobs = selective_log_softmax(logits, responses)
        with policy.disable_adapter():
            ref_output = ppo.forward(policy, query_responses, pad)
        ref_logits = ref_output.logits[:, context_length - 1 : -1]
        ref_logits /= args.temperature + 1e-7
        ref_logprobs = selective_log_softmax(ref_logits, responses)
        postprocessed_responses = ppo.truncate_response(eos, pad, responses)
        postprocessed_query_responses = torch.cat((queries, postprocessed_responses), 1)
        sequence_lengths = utils.first_true_indices(postprocessed_responses == pad) - 1
        full_value, _, _ = utils.get_reward(value_model, query_responses, pad, context_length)
        values = full_value[:, context_length - 1 : -1].squeeze(-1)
        _, scores, _ = utils.get_reward(reward_model, postprocessed_query_responses, pad, context_length)
        scores = scores.squeeze(-1) if scores.dim() > 1 else scores
        contain_eos_token = torch.any(postprocessed_responses == eos, dim=-1)
        scores[~contain_eos_token] -= args.missing_eos_penalty
        response_idxs = torch.arange(responses.shape[1]).repeat(responses.shape[0], 1)
        padding_mask = response_idxs > sequence_lengths.unsqueeze(1)
        logprobs = torch.masked_fill(logprobs, padding_mask, INVALID_LOGPROB)
        ref_logprobs = torch.masked_fill(ref_logprobs, padding_mask, INVALID_LOGPROB)
        sequence_lengths_p1 = sequence_lengths + 1
        padding_mask_p1 = response_idxs > (sequence_lengths_p1.unsqueeze(1))
        values = torch.masked_fill(values, padding_mask_p1, 0)
        logr = ref_logprobs - logprobs
        kl = -logr if args.kl_estimator == "k1" else (logr.exp() - 1) - logr
        non_score_reward = -args.kl_coef * kl
        rewards = non_score_reward.clone()
        actual_start = torch.arange(rewards.size(0))
        actual_end = torch.where(sequence_lengths_p1 < rewards.size(1), sequence_lengths_p1, sequence_lengths)
        rewards[actual_start, actual_end] += scores
        lastgaelam = 0
        advantages_reversed = []
        for t in reversed(range(T)):
            nextvalues = values[:, t + 1] if t < T - 1 else 0.0
            delta = rewards[:, t] + args.gamma * nextvalues - values[:, t]
            lastgaelam = delta + args.gamma * args.lam * lastgaelam
            advantages_reversed.append(lastgaelam)
        advantages = torch.stack(advantages_reversed[::-1], axis=1)
        returns = advantages + values
        advantages = ppo.masked_whiten(advantages, ~padding_mask)
        advantages = torch.masked_fill(advantages, padding_mask, 0)
        rollout_metrics = {
            "objective/kl": kl.sum(1).mean().item(),
            "objective/entropy": ((-logprobs) * (~padding_mask).float()).sum(1).mean().item(),
            "objective/non_score_reward": non_score_reward.sum(1).mean().item(),
            "objective/rlhf_reward": (non_score_reward.sum(1).mean() + scores.mean()).item(),
            "objective/scores": scores.mean().item(),
            "val/num_eos_tokens": (responses == eos).sum().item(),
        }
    # --- end of transcription ---

    # The weights move (as after an optimizer step), then one micro-batch (lines 813-865).
    with torch.no_grad():
        for name, parameter in policy.named_parameters():
            if "lora_B" in name:
                parameter.add_(0.03 * torch.randn(parameter.shape, generator=generator))
        value_model.score.weight.add_(0.1 * torch.randn(value_model.score.weight.shape, generator=generator))
    heads["value_updated"] = value_model.score.weight.detach().clone()
    policy.save_pretrained(os.path.join(out, "policy_adapter_updated"))
    for directory in ("policy_adapter", "policy_adapter_updated"):
        os.remove(os.path.join(out, directory, "README.md"))
    model = ppo.PolicyAndValueWrapper(policy, value_model)
    model.train()
    mb = torch.tensor(MICRO_BATCH)
    mb_advantage, mb_responses, mb_logprobs = advantages[mb], responses[mb], logprobs[mb]
    mb_return, mb_values = returns[mb], values[mb]
    output, vpred_temp = ppo.forward(model, query_responses[mb], pad)
    logits = output.logits[:, context_length - 1 : -1]
    logits /= args.temperature + 1e-7
    new_logprobs = selective_log_softmax(logits, mb_responses)
    new_logprobs = torch.masked_fill(new_logprobs, padding_mask[mb], INVALID_LOGPROB)
    vpred = vpred_temp[:, context_length - 1 : -1].squeeze(-1)
    vpred = torch.masked_fill(vpred, padding_mask_p1[mb], 0)
    vpredclipped = torch.clamp(vpred, mb_values - args.cliprange_value, mb_values + args.cliprange_value)
    vf_losses1 = torch.square(vpred - mb_return)
    vf_losses2 = torch.square(vpredclipped - mb_return)
    vf_loss = 0.5 * ppo.masked_mean(torch.max(vf_losses1, vf_losses2), ~padding_mask_p1[mb])
    vf_clipfrac = ppo.masked_mean((vf_losses2 > vf_losses1).float(), ~padding_mask_p1[mb])
    logprobs_diff = new_logprobs - mb_logprobs
    ratio = torch.exp(logprobs_diff)
    pg_losses = -mb_advantage * ratio
    pg_losses2 = -mb_advantage * torch.clamp(ratio, 1.0 - args.cliprange, 1.0 + args.cliprange)
    pg_loss = ppo.masked_mean(torch.max(pg_losses, pg_losses2), ~padding_mask[mb])
    loss = pg_loss + args.vf_coef * vf_loss
    loss.backward()
    loss_metrics = {
        "policy/approxkl_avg": (0.5 * (logprobs_diff ** 2).mean()).item(),
        "policy/clipfrac_avg": ppo.masked_mean((pg_losses2 > pg_losses).float(), ~padding_mask[mb]).item(),
        "loss/policy_avg": pg_loss.item(), "loss/value_avg": vf_loss.item(), "val/clipfrac_avg": vf_clipfrac.item(),
        "val/ratio": ratio.mean().item(),
    }
    gradients = {}
    for name, parameter in policy.named_parameters():
        if "lora_" in name and "layers.0." in name:
            gradients[name.replace("base_model.model.", "").replace(".default", "")] = parameter.grad.clone()
    for name in ["score.weight", "model.norm.weight", "model.layers.0.self_attn.k_proj.weight"]:
        gradients["value_model." + name] = dict(value_model.named_parameters())[name].grad.clone()
    save_file({k: v.contiguous() for k, v in gradients.items()}, os.path.join(out, "gradients.safetensors"))
    save_file({k: v.contiguous() for k, v in heads.items()}, os.path.join(out, "heads.safetensors"))

    flat = lambda t: [float(v) for v in t.reshape(-1).tolist()]  # noqa: E731
    expected = {
        "config": ARGS, "prompt_ids": prompt_ids, "responses": responses.tolist(), "pad_token_id": pad, "eos_token_id": eos,
        "logprobs": flat(logprobs), "ref_logprobs": flat(ref_logprobs), "values": flat(values), "scores": flat(scores),
        "sequence_lengths": sequence_lengths.tolist(), "rewards": flat(rewards), "advantages": flat(advantages),
        "returns": flat(returns), "rollout_metrics": rollout_metrics, "micro_batch": MICRO_BATCH, "loss": loss.item(),
        "loss_metrics": loss_metrics, "gradients": sorted(gradients),
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
    print(f"ppo fixtures: {size / 1024:.0f} KiB; scores {flat(scores)}, loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
