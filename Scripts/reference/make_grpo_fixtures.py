"""GRPO parity fixtures computed by TRL's own GRPOTrainer (trl 1.16).

    python3 Scripts/reference/make_grpo_fixtures.py [OUT_DIR]      (default Tests/FledgeRLTests/Fixtures/grpo)
    python3 Scripts/reference/make_grpo_fixtures.py --adaptive-entropy-only [OUT_DIR]

Every number comes from a real `trl.GRPOTrainer` built on a tiny random Llama with a `GRPOConfig`:

- the loss: `trainer._compute_loss(model, inputs)` on crafted inputs (the dict `_generate_and_score_completions`
  would hand it: prompt and completion ids and masks, advantages, old and reference log-probs, num_items_in_batch),
  in train mode with `current_gradient_accumulation_steps` set, then `loss.backward()`; one case per loss type x
  beta (0, 0.04) x importance sampling level (token, sequence), plus delta, top_entropy_quantile,
  use_bias_correction_kl=False and on-policy (no old log-probs) cases;
- the advantages: `trainer._generate_and_score_completions(inputs)` with a `rollout_func` returning fixed
  completions (so nothing is sampled) and reward functions returning crafted values, None included, for every
  `scale_rewards`.

Prompts all have the same length: TRL passes no position ids, so transformers counts positions over left padding,
while Fledge counts them over each row's real tokens (as generation does); equal lengths make both the same.
Completions are right-padded; one is truncated and kept, one is truncated and masked out as
`mask_truncated_completions` does (its completion mask is all zero), the others end with EOS.

Writes under OUT_DIR:
- model/: the tiny Llama (float32; config.json, model.safetensors, generation_config.json);
- loss_inputs.json: the batch (unpadded ids, masks, advantages, old/ref log-probs as [rows][tokens] without
  padding, num_items_in_batch, gradient_accumulation_steps, steps_per_generation, temperature,
  max_completion_length) plus TRL's current per-token log-probs and entropies;
- loss_cases.json: for each case its settings, the loss and the metrics TRL logged;
- adaptive_entropy.json: TRL's adaptive entropy controller (`use_adaptive_entropy`) over three optimizer steps of
  two micro-batches of that batch: each call's loss and gradient, and the coefficient after each step;
- loss_gradients.safetensors: for each case the gradient of the loss with respect to the per-token log-probs
  (flat, loss-masked tokens in row order: "<case>/per_token_logps") and to a few parameters ("<case>/<parameter>");
- reward_model/: a tiny Llama sequence classifier (one label) with the locally trained qwen2 tokenizer of the
  tokenizer fixtures and a ChatML template, and reward_model.json: text and chat prompts with completions and the
  rewards `GRPOTrainer._calculate_rewards` gives them with that directory as a reward function;
- advantages.json: for each case the reward functions' names (in order), the rewards per function, weights, group
  size, scale_rewards, multi_objective_aggregation, TRL's advantages
  and logged reward metrics (NaN written as null).
"""
import json
import math
import os
import shutil
import sys
import tempfile

import torch
from datasets import Dataset
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, PreTrainedTokenizerFast
from trl import GRPOConfig, GRPOTrainer

from make_model_fixtures import randomize, write_chat_tokenizer

VOCAB = 32
PAD, BOS, EOS = 0, 1, 2
TEMPERATURE = 0.7
GRADIENT_ACCUMULATION = 2
STEPS_PER_GENERATION = 4
MAX_COMPLETION_LENGTH = 8
NUM_ITEMS_IN_BATCH = 41  # active tokens of the whole generation batch (more than this micro-batch holds)
GRADIENT_PARAMETERS = ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.input_layernorm.weight"]

PROMPTS = [[1, 5, 9, 13], [1, 7, 3, 22], [1, 30, 11, 4], [1, 16, 27, 8], [1, 12, 6, 25]]
COMPLETIONS = [
    [11, 23, 5, 17, 30, 8],   # truncated (no EOS), kept
    [14, 9, EOS],
    [25, 31, 12, 7, EOS],
    [19, 4, 28, 21, 10, 26],  # truncated and masked out (mask_truncated_completions)
    [6, EOS],
]
MASKED_ROWS = {3}
ADVANTAGES = [0.9, -1.1, 0.45, 0.7, -0.6]
# Added to the old log-probs of each row (besides per-token noise) so that whole sequences clip too: row 0 has a
# positive advantage and a sequence ratio above 1 + epsilon_high, row 1 a negative one below 1 - epsilon.
OLD_ROW_SHIFTS = [-0.3, 0.3, 0.0, 0.0, 0.05]


def tokenizer():
    vocab = {f"t{i}": i for i in range(VOCAB)}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="t3"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="t0", bos_token="t1", eos_token="t2",
                                   unk_token="t3")


def make_model(path):
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=20, intermediate_size=28, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=64,
                         rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
                         bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
    model = AutoModelForCausalLM.from_config(config)
    # A flatter head than the model fixtures' keeps the crafted completion tokens' log-probabilities in the range
    # sampled tokens have (a few nats), where float32 forwards of Fledge and transformers agree to ~1e-6.
    randomize(model, torch.Generator().manual_seed(8), head_scale=1.6)
    shutil.rmtree(path, ignore_errors=True)
    model.save_pretrained(path)
    GenerationConfig(bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD).save_pretrained(path)


def trainer_for(model_dir, work_dir, reward_funcs=None, rollout_func=None, **overrides):
    settings = dict(output_dir=work_dir, report_to="none", use_cpu=True, bf16=False, gradient_checkpointing=False,
                    per_device_train_batch_size=len(PROMPTS), num_generations=4,
                    gradient_accumulation_steps=GRADIENT_ACCUMULATION, steps_per_generation=STEPS_PER_GENERATION,
                    max_completion_length=MAX_COMPLETION_LENGTH, temperature=TEMPERATURE,
                    epsilon=0.2, epsilon_high=0.28, logging_steps=1, seed=0)
    settings.update(overrides)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation="eager")
    trainer = GRPOTrainer(model=model, reward_funcs=reward_funcs or [lambda completions, **kw: [0.0] * len(completions)],
                          args=GRPOConfig(**settings), processing_class=tokenizer(), rollout_func=rollout_func,
                          train_dataset=Dataset.from_dict({"prompt": ["t5 t6"] * 8}))
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = GRADIENT_ACCUMULATION
    return trainer


def padded_batch():
    width = max(len(c) for c in COMPLETIONS)
    completion_ids = torch.tensor([c + [PAD] * (width - len(c)) for c in COMPLETIONS])
    completion_mask = torch.tensor([[0 if r in MASKED_ROWS else int(t < len(c)) for t in range(width)]
                                    for r, c in enumerate(COMPLETIONS)])
    prompt_ids = torch.tensor(PROMPTS)
    return dict(prompt_ids=prompt_ids, prompt_mask=torch.ones_like(prompt_ids), completion_ids=completion_ids,
                completion_mask=completion_mask, advantages=torch.tensor(ADVANTAGES),
                num_items_in_batch=torch.tensor(NUM_ITEMS_IN_BATCH))


def current_logps(trainer, batch):
    input_ids = torch.cat([batch["prompt_ids"], batch["completion_ids"]], dim=1)
    attention_mask = torch.cat([batch["prompt_mask"], batch["completion_mask"]], dim=1)
    with torch.no_grad():
        logps, entropies, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model, input_ids, attention_mask, batch["completion_ids"].size(1), compute_entropy=True)
    return logps, entropies


def flat_rows(tensor):
    """The loss-masked tokens of each row of a padded [rows, tokens] tensor."""
    return [tensor[r, :0 if r in MASKED_ROWS else len(c)] for r, c in enumerate(COMPLETIONS)]


def capture_logps(trainer):
    """Keeps the per-token log-probs `_compute_loss` computes, with their gradient."""
    captured = {}
    original = trainer._get_per_token_logps_and_entropies

    def capturing(*args, **kwargs):
        logps, entropies, aux_loss = original(*args, **kwargs)
        logps.retain_grad()
        captured["logps"] = logps
        return logps, entropies, aux_loss

    trainer._get_per_token_logps_and_entropies = capturing
    return captured


def loss_cases():
    cases = []
    for loss_type in ["grpo", "bnpo", "dr_grpo", "dapo", "cispo", "sapo", "luspo", "vespo"]:
        for beta in [0.0, 0.04]:
            for level in ["token", "sequence"]:
                settings = dict(loss_type=loss_type, beta=beta, importance_sampling_level=level)
                if loss_type == "cispo":
                    settings["epsilon_high"] = 1.15  # CISPO's absolute cap on the ratio; active on some tokens
                cases.append((f"{loss_type}_beta{beta:g}_{level}", settings, True))
    cases += [
        ("grpo_delta_beta0.04_token", dict(loss_type="grpo", beta=0.04, delta=1.25), True),
        ("dapo_delta_beta0_sequence", dict(loss_type="dapo", beta=0.0, delta=1.1,
                                           importance_sampling_level="sequence"), True),
        ("dapo_top_entropy_beta0.04_token", dict(loss_type="dapo", beta=0.04, top_entropy_quantile=0.45), True),
        ("grpo_top_entropy_beta0_sequence", dict(loss_type="grpo", beta=0.0, top_entropy_quantile=0.7,
                                                 importance_sampling_level="sequence"), True),
        ("bnpo_no_bias_correction_beta0.04_token", dict(loss_type="bnpo", beta=0.04, use_bias_correction_kl=False),
         True),
        ("sapo_temperatures_beta0_token", dict(loss_type="sapo", beta=0.0, sapo_temperature_pos=0.8,
                                               sapo_temperature_neg=1.3), True),
        # Row 1 (negative advantage, old log-probs shifted up) drifts past the threshold and is masked.
        ("dapo_off_policy_mask_beta0.04_token", dict(loss_type="dapo", beta=0.04, off_policy_mask_threshold=0.1), True),
        ("grpo_off_policy_mask_beta0_sequence", dict(loss_type="grpo", beta=0.0, off_policy_mask_threshold=0.02,
                                                     importance_sampling_level="sequence"), True),
        ("dapo_off_policy_mask_on_policy_beta0_token", dict(loss_type="dapo", beta=0.0, off_policy_mask_threshold=0.0),
         False),
        # The entropy bonus, with its gradient through the entropies: per loss-type normalisation, with the
        # high-entropy mask, and a negative coefficient (an entropy penalty).
        ("grpo_entropy_coef_beta0.04_token", dict(loss_type="grpo", beta=0.04, entropy_coef=0.05), True),
        ("dapo_entropy_coef_top_entropy_beta0_token", dict(loss_type="dapo", beta=0.0, entropy_coef=0.1,
                                                           top_entropy_quantile=0.6), True),
        ("bnpo_entropy_penalty_beta0_sequence", dict(loss_type="bnpo", beta=0.0, entropy_coef=-0.02,
                                                     importance_sampling_level="sequence"), False),
        ("dapo_on_policy_beta0.04_token", dict(loss_type="dapo", beta=0.04), False),
        ("grpo_on_policy_beta0_token", dict(loss_type="grpo", beta=0.0), False),
    ]
    return cases


def make_loss_fixtures(out_dir, model_dir, work_dir):
    batch = padded_batch()
    mask = batch["completion_mask"].float()
    logps, entropies = current_logps(trainer_for(model_dir, work_dir), batch)
    generator = torch.Generator().manual_seed(3)
    shifts = torch.tensor(OLD_ROW_SHIFTS).unsqueeze(1)
    old = ((logps + shifts + 0.35 * torch.randn(logps.shape, generator=generator)) * mask).detach()
    ref = ((logps + 0.25 * torch.randn(logps.shape, generator=generator)) * mask).detach()

    def rows(tensor):
        return [row.tolist() for row in flat_rows(tensor)]

    inputs = dict(prompts=PROMPTS, completions=COMPLETIONS, masked_rows=sorted(MASKED_ROWS), advantages=ADVANTAGES,
                  old_logps=rows(old), ref_logps=rows(ref), num_items_in_batch=NUM_ITEMS_IN_BATCH,
                  gradient_accumulation_steps=GRADIENT_ACCUMULATION, steps_per_generation=STEPS_PER_GENERATION,
                  temperature=TEMPERATURE, max_completion_length=MAX_COMPLETION_LENGTH, epsilon=0.2,
                  epsilon_high=0.28, trl_logps=rows(logps), trl_entropies=rows(entropies))
    with open(os.path.join(out_dir, "loss_inputs.json"), "w") as f:
        json.dump(inputs, f)

    records, gradients = [], {}
    for name, settings, off_policy in loss_cases():
        trainer = trainer_for(model_dir, work_dir, **settings)
        captured = capture_logps(trainer)
        case_inputs = dict(batch)
        if off_policy:
            case_inputs["old_per_token_logps"] = old
        if settings["beta"] != 0:
            case_inputs["ref_per_token_logps"] = ref
        loss = trainer._compute_loss(trainer.model, case_inputs)
        loss.backward()
        gradients[f"{name}/per_token_logps"] = torch.cat(
            [g for g in flat_rows(captured["logps"].grad)]).contiguous()
        parameters = dict(trainer.model.named_parameters())
        for parameter in GRADIENT_PARAMETERS:
            gradients[f"{name}/{parameter}"] = parameters[parameter].grad.detach().clone().contiguous()
        metrics = {key: values[-1] for key, values in trainer._metrics["train"].items()}
        records.append(dict(name=name, settings=settings, off_policy=off_policy, loss=loss.item(),
                            metrics=clean(metrics)))
        print(f"{name}: loss {loss.item():.6g}")
    with open(os.path.join(out_dir, "loss_cases.json"), "w") as f:
        json.dump(records, f, indent=1)
    save_file(gradients, os.path.join(out_dir, "loss_gradients.safetensors"))


def clean(value):
    """NaN as null, for JSON."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def advantage_scenarios():
    """(name, group size, weights or None, {function name: rewards with None})."""
    n = None
    return [
        # group 0: mixed, one function missing on some rows (nansum); group 1: equal rewards (zero std);
        # group 2: one unscorable row (every function None) and one row scored by the second function only.
        ("two_functions", 4, [1.0, 0.5], {
            "correct": [1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5, n, 2.0, n, 1.0],
            "length": [0.2, n, -0.4, 0.1, n, n, n, n, n, -0.3, 0.6, 0.25],
        }),
        # group 0: distinct rewards; group 1: a single scorable row (NaN std); group 2: nothing scorable.
        ("one_function", 3, None, {
            "score": [0.3, 1.7, -0.9, n, 2.5, n, n, n, n],
        }),
    ]


def make_advantage_fixtures(out_dir, model_dir, work_dir):
    records = []
    for name, group, weights, table in advantage_scenarios():
        count = len(next(iter(table.values())))

        def make_reward(function_name):
            def reward(completions, row, **kwargs):
                return [table[function_name][i] for i in row]
            reward.__name__ = function_name
            return reward

        def rollout(prompts, trainer):
            return {"prompt_ids": [[1, 5, 6]] * len(prompts), "completion_ids": [[7, EOS]] * len(prompts),
                    "logprobs": None}

        # normalize_then_sum (GDPO) ignores scale_rewards: one case per scenario.
        settings = [(scale, "sum_then_normalize") for scale in ["group", "batch", "none"]]
        settings.append(("group", "normalize_then_sum"))
        for scale, aggregation in settings:
            trainer = trainer_for(model_dir, work_dir, reward_funcs=[make_reward(f) for f in table],
                                  rollout_func=rollout, num_generations=group, per_device_train_batch_size=count,
                                  steps_per_generation=1, gradient_accumulation_steps=1, scale_rewards=scale,
                                  reward_weights=weights, multi_objective_aggregation=aggregation)
            output = trainer._generate_and_score_completions([{"prompt": "t5 t6", "row": i} for i in range(count)])
            metrics = {key: values[-1] for key, values in trainer._metrics["train"].items()
                       if key.startswith("reward") or key == "frac_reward_zero_std"}
            case = f"{name}_{scale}" if aggregation == "sum_then_normalize" else f"{name}_{aggregation}"
            records.append(dict(name=case, num_generations=group, reward_weights=weights,
                                scale_rewards=scale, multi_objective_aggregation=aggregation, reward_names=list(table),
                                rewards=table, advantages=output["advantages"].tolist(), metrics=clean(metrics)))
            print(f"{case}: {[round(a, 4) for a in output['advantages'].tolist()]}")
    with open(os.path.join(out_dir, "advantages.json"), "w") as f:
        json.dump(records, f, indent=1)


def make_reward_model_fixture(out_dir, model_dir, work_dir):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    source = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "FledgeLMTests", "Fixtures", "tokenizers",
                          "qwen2")
    path = os.path.join(out_dir, "reward_model")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    write_chat_tokenizer(source, path)
    reward_tokenizer = AutoTokenizer.from_pretrained(path)
    config = LlamaConfig(vocab_size=len(reward_tokenizer), hidden_size=10, intermediate_size=14, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, head_dim=4, max_position_embeddings=128,
                         rms_norm_eps=1e-6, rope_theta=10000.0, num_labels=1,
                         pad_token_id=reward_tokenizer.pad_token_id, eos_token_id=reward_tokenizer.eos_token_id)
    model = AutoModelForSequenceClassification.from_config(config)
    randomize(model, torch.Generator().manual_seed(11))
    model.save_pretrained(path)

    trainer = trainer_for(model_dir, work_dir, reward_funcs=[path])
    batches = {
        "text": (["Question: what is 2+3?", "Say hello", "Name a color:"],
                 [" The answer is 5.", " Hello there!", " Blue, like the sky"]),
        "chat": ([[{"role": "user", "content": "What is 2+3?"}],
                  [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Greet me"}],
                  [{"role": "user", "content": "Name a color"}]],
                 ["5", "Hi!", "Blue, like the sky"]),
    }
    record = {}
    for kind, (prompts, texts) in batches.items():
        completions = texts if kind == "text" else [[{"role": "assistant", "content": t}] for t in texts]
        inputs = [{"prompt": p} for p in prompts]
        rewards = trainer._calculate_rewards(inputs, prompts, completions, [[] for _ in prompts])
        record[kind] = dict(prompts=prompts, completions=texts, rewards=rewards[:, 0].tolist())
        print(f"reward model, {kind}: {[round(r, 4) for r in rewards[:, 0].tolist()]}")
    with open(os.path.join(out_dir, "reward_model.json"), "w") as f:
        json.dump(record, f, indent=1)


ADAPTIVE_MICRO_BATCHES = [[0, 1, 2], [2, 3, 4]]  # rows of the loss batch; two micro-batches per optimizer step
ADAPTIVE_STEPS = 3


def adaptive_entropy_cases():
    shared = dict(loss_type="dapo", beta=0.0, use_adaptive_entropy=True, entropy_coef=0.05, entropy_coef_delta=0.02,
                  entropy_coef_min=0.01, entropy_coef_max=0.08)
    return [
        # The window's entropy stays below the target: the coefficient rises to its maximum and applies from step 2.
        ("below_target_dapo", dict(shared, entropy_target=3.0)),
        # Above the target: it falls to its minimum and never applies.
        ("above_target_grpo", dict(shared, loss_type="grpo", entropy_target=0.5)),
        # With the high-entropy mask the controller measures the masked tokens only.
        ("top_entropy_dapo", dict(shared, entropy_target=2.4, top_entropy_quantile=0.5)),
    ]


def make_adaptive_entropy_fixtures(out_dir, model_dir, work_dir):
    """adaptive_entropy.json: TRL's adaptive entropy controller over ADAPTIVE_STEPS optimizer steps of two
    micro-batches each (sync_gradients only on the second), from the loss fixtures' batch and old log-probs: each
    micro-batch's loss and gradient with respect to the per-token log-probs, and after each step the coefficient,
    the window entropy the controller measured, and the logged entropy_coef metric."""
    batch = padded_batch()
    logps, _ = current_logps(trainer_for(model_dir, work_dir), batch)
    mask = batch["completion_mask"].float()
    generator = torch.Generator().manual_seed(3)
    shifts = torch.tensor(OLD_ROW_SHIFTS).unsqueeze(1)
    old = ((logps + shifts + 0.35 * torch.randn(logps.shape, generator=generator)) * mask).detach()
    records = []
    for name, settings in adaptive_entropy_cases():
        trainer = trainer_for(model_dir, work_dir, **settings)
        captured = capture_logps(trainer)
        calls, steps = [], []
        for _ in range(ADAPTIVE_STEPS):
            for index, rows in enumerate(ADAPTIVE_MICRO_BATCHES):
                trainer.accelerator.gradient_state._set_sync_gradients(index == len(ADAPTIVE_MICRO_BATCHES) - 1)
                inputs = {key: (value[rows] if key != "num_items_in_batch" else value) for key, value in batch.items()}
                inputs["old_per_token_logps"] = old[rows]
                loss = trainer._compute_loss(trainer.model, inputs)
                loss.backward()
                grad = captured["logps"].grad
                kept = [grad[i, :0 if r in MASKED_ROWS else len(COMPLETIONS[r])] for i, r in enumerate(rows)]
                calls.append(dict(loss=loss.item(), logps_grad=torch.cat(kept).tolist()))
            steps.append(dict(entropy_coef=trainer.entropy_coef, last_world_entropy=trainer._last_world_entropy,
                              logged_entropy_coef=trainer._metrics["train"]["entropy_coef"][-1]))
        records.append(dict(name=name, settings=settings, calls=calls, steps=steps))
        print(f"adaptive entropy {name}: coefficients {[round(s['entropy_coef'], 4) for s in steps]}")
    with open(os.path.join(out_dir, "adaptive_entropy.json"), "w") as f:
        json.dump(dict(micro_batches=ADAPTIVE_MICRO_BATCHES, cases=records), f, indent=1)


def main():
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    out_dir = arguments[0] if arguments else "Tests/FledgeRLTests/Fixtures/grpo"
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    model_dir = os.path.join(out_dir, "model")
    with tempfile.TemporaryDirectory() as work_dir:
        if "--adaptive-entropy-only" in sys.argv:  # the other fixtures as committed
            make_adaptive_entropy_fixtures(out_dir, model_dir, work_dir)
            return
        make_model(model_dir)
        make_loss_fixtures(out_dir, model_dir, work_dir)
        make_adaptive_entropy_fixtures(out_dir, model_dir, work_dir)
        make_advantage_fixtures(out_dir, model_dir, work_dir)
        make_reward_model_fixture(out_dir, model_dir, work_dir)
    size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(out_dir) for f in files)
    print(f"{out_dir}: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
