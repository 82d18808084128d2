"""One PPO step as TRL 1.12's PPOTrainer takes it, on the shapes and settings of `fledge bench ppo`.

    python3 Scripts/bench/trl_ppo.py [--prompts 8] [--prompt-tokens 32] [--response-length 64] [--ppo-epochs 1] [--runs 2]

PPOTrainer left TRL after 1.12 and TRL 1.12 does not install beside transformers 5, so this is the body
of `PPOTrainer.train` for one batch, written out with the same calls (its `generate`, `forward` and
`get_reward` helpers; `PolicyAndValueWrapper`'s forward; k1 KL penalty, GAE, whitened advantages,
clipped policy and value losses; entropy under no_grad). Models: the SmolLM2-135M-shaped Llama of
`torch_train.py` (random weights, float32) as the policy with PEFT LoRA (r=16, lora_alpha 32, dropout 0,
every linear layer; the reference is the policy with its adapters disabled), a value model (a one-label
LlamaForSequenceClassification of the same shape with LoRA and a trainable score head, as
`fledge ppo` trains it with use_peft) and a frozen reward model of the same shape. One step is a
rollout — responses of `response_length` tokens sampled at temperature 0.7 (+1e-7) with EOS ignored,
the reference log-probs, the values and the scores — and `ppo_epochs` optimizer steps on it (one
mini-batch each, AdamW with TRL's lr 3e-6; gradients clipped to norm 1, as Fledge's trainer does).
Prints one JSON line: {"step_seconds", "rollout_seconds", "train_seconds", "peak_rss_mb", ...}, the
fastest of `--runs` timed steps after a warm-up step.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F
from peft import LoraConfig, get_peft_model
from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification

from torch_train import LINEAR_MODULES, SMOLLM2_135M

PAD, TEMPERATURE, KL_COEF, GAMMA, LAM, CLIPRANGE, CLIPRANGE_VALUE, VF_COEF = 0, 0.7, 0.05, 1.0, 0.95, 0.2, 0.2, 0.1


def masked(tokens):
    """TRL's input preparation: pads masked out, positions counted over real tokens."""
    mask = tokens != PAD
    return dict(input_ids=torch.masked_fill(tokens, ~mask, 0), attention_mask=mask,
                position_ids=mask.cumsum(1) - mask.long(), return_dict=True, output_hidden_states=True)


def log_probs(logits, tokens):
    return torch.gather(logits.log_softmax(-1), 2, tokens.unsqueeze(-1)).squeeze(-1)


def whiten(values):
    return (values - values.mean()) * torch.rsqrt(values.var() + 1e-8)


def rollout(policy, value, reward, queries, response_length):
    context = queries.shape[1]
    config = GenerationConfig(max_new_tokens=response_length, temperature=TEMPERATURE + 1e-7, top_k=0, top_p=1.0,
                              do_sample=True, pad_token_id=PAD)
    with torch.no_grad():
        mask = queries != PAD
        output = policy.generate(input_ids=torch.masked_fill(queries, ~mask, 0), attention_mask=mask, generation_config=config,
                                 return_dict_in_generate=True, output_scores=True)
        query_responses = torch.cat((queries, output.sequences[:, context:]), 1)
        responses = query_responses[:, context:]
        logprobs = log_probs(torch.stack(output.scores, 1) / (TEMPERATURE + 1e-7), responses)
        with policy.disable_adapter():
            ref_logits = policy(**masked(query_responses)).logits[:, context - 1:-1] / (TEMPERATURE + 1e-7)
        ref_logprobs = log_probs(ref_logits, responses)
        lengths = torch.full((len(queries),), response_length - 1)
        values = value.score(value.model(**masked(query_responses), use_cache=False).hidden_states[-1])[:, context - 1:-1, 0]
        scores = reward.score(reward.model(**masked(query_responses), use_cache=False).hidden_states[-1])[
            torch.arange(len(queries)), lengths + context, 0]
        rewards = -KL_COEF * (logprobs - ref_logprobs)
        rewards[torch.arange(len(queries)), lengths] += scores
        advantages, last = [], 0
        for t in reversed(range(response_length)):
            next_value = values[:, t + 1] if t < response_length - 1 else 0.0
            last = rewards[:, t] + GAMMA * next_value - values[:, t] + GAMMA * LAM * last
            advantages.append(last)
        advantages = torch.stack(advantages[::-1], 1)
        returns = advantages + values
    return query_responses, responses, logprobs, values, whiten(advantages), returns


def train(policy, value, optimizer, parameters, batch, context):
    query_responses, responses, old_logprobs, old_values, advantages, returns = batch
    policy_out = policy(**masked(query_responses))
    vpred = value.score(value.model(**masked(query_responses)).hidden_states[-1])[:, context - 1:-1, 0]
    logits = policy_out.logits[:, context - 1:-1] / (TEMPERATURE + 1e-7)
    new_logprobs = log_probs(logits, responses)
    vpred_clipped = old_values + torch.clamp(vpred - old_values, -CLIPRANGE_VALUE, CLIPRANGE_VALUE)
    vf_loss = 0.5 * torch.max((vpred - returns) ** 2, (vpred_clipped - returns) ** 2).mean()
    ratio = torch.exp(new_logprobs - old_logprobs)
    pg_loss = torch.max(-advantages * ratio, -advantages * torch.clamp(ratio, 1 - CLIPRANGE, 1 + CLIPRANGE)).mean()
    loss = pg_loss + VF_COEF * vf_loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimizer.step()
    optimizer.zero_grad()
    with torch.no_grad():
        probabilities = F.softmax(logits, dim=-1)
        _ = torch.logsumexp(logits, dim=-1) - torch.sum(probabilities * logits, dim=-1)
    return loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--prompt-tokens", type=int, default=32)
    parser.add_argument("--response-length", type=int, default=64)
    parser.add_argument("--ppo-epochs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    torch.manual_seed(1)
    lora = dict(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=LINEAR_MODULES)
    policy = get_peft_model(LlamaForCausalLM(LlamaConfig(**SMOLLM2_135M)), LoraConfig(task_type="CAUSAL_LM", **lora))
    value = get_peft_model(LlamaForSequenceClassification(LlamaConfig(**SMOLLM2_135M, num_labels=1)),
                           LoraConfig(task_type="SEQ_CLS", **lora)).base_model.model
    reward = LlamaForSequenceClassification(LlamaConfig(**SMOLLM2_135M, num_labels=1)).eval().requires_grad_(False)
    parameters = [p for model in (policy, value) for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(parameters, lr=3e-6, weight_decay=0.0)
    queries = torch.tensor([[(t * 7919 + row * 104729 + 17) % 49152 for t in range(args.prompt_tokens)]
                            for row in range(args.prompts)])
    best = (float("inf"), float("inf"))
    for run in range(args.runs + 1):
        policy.eval(), value.eval()
        start = time.perf_counter()
        batch = rollout(policy, value, reward, queries, args.response_length)
        sampled = time.perf_counter()
        policy.train(), value.train()
        for _ in range(args.ppo_epochs):
            loss = train(policy, value, optimizer, parameters, batch, args.prompt_tokens)
            assert torch.isfinite(loss), f"the PPO loss is {loss}"
        times = (sampled - start, time.perf_counter() - sampled)
        if run > 0 and sum(times) < sum(best):
            best = times
    print(json.dumps({"prompts": args.prompts, "prompt_tokens": args.prompt_tokens, "response_length": args.response_length,
                      "ppo_epochs": args.ppo_epochs, "step_seconds": round(sum(best), 3), "rollout_seconds": round(best[0], 3),
                      "train_seconds": round(best[1], 3),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "threads": torch.get_num_threads()}), flush=True)


if __name__ == "__main__":
    main()
