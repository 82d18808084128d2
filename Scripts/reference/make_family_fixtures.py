"""Tiny random-init checkpoints of the Gemma 2, Gemma 3 text, Phi-3, SmolLM3 and OLMo 2 families and what
transformers and PEFT compute with them.

    python3 Scripts/reference/make_family_fixtures.py [OUT_DIR]            # write the fixtures
    python3 Scripts/reference/make_family_fixtures.py --check [OUT_DIR]    # reload them and recompute everything

(Run from the repository root with torch, transformers, peft and safetensors installed; see requirements.txt.
The committed fixtures were made with the versions recorded in each expected.json.)

Writes, under OUT_DIR (default Tests/FledgeLMTests/Fixtures/families), for each family `<model_type>` (gemma2,
gemma3_text, phi3, smollm3, olmo2):

- `<model_type>/`: the causal LM as `save_pretrained` writes it (config.json, model.safetensors in float32,
  generation_config.json), plus
  - `config.transformers4.json`: the same model's config with the field names the published checkpoints use
    (top-level rope_theta / rope_scaling, Gemma 3's rope_local_base_freq and sliding_window_pattern, no layer_types
    where they had none); transformers computes the same outputs from either (`--check` verifies it);
  - `expected.json`:
    - `score`: for a few token sequences (longer than every sliding window), `logprobs`: log p(token t | tokens
      before t) for t = 1 ... n-1, each sequence alone, and `batch_logprobs`: the same from one left-padded batch of
      all sequences, with the attention mask and the position ids that generate derives (`score_batch` records the
      padded ids, mask and position ids);
    - `greedy`: prompts, the 30 new tokens greedy decoding (generate with its default cache) gives for each alone
      (`new_ids`) and for all as one left-padded batch (`batch_new_ids`), `min_greedy_gap` (the smallest gap between
      the top two logits seen, so that a failure can be told apart from a near tie) and `eos`;
    - `lora`: `sequence`, `peft_logprobs` (t = 1 ... n-1 with the adapter of `peft_adapter/`), `peft_loss` (their
      sum) and `base_logprobs` (adapter off), all in float64;
    - `probes`: evidence that the family's settings bite on these inputs: sliding window and lengths, Gemma 2's
      largest |attention score| and |logit| before soft-capping and their ratio to the cap (tanh is far from linear
      above ~0.5), Phi-3's rope regime per sequence, and `switched_off`: for each setting turned off in turn (norm
      weights at their identity, biases zero, the family's own settings), the largest change of a `score` log-prob;
    - `versions`: torch, transformers, peft;
  - `peft_adapter/`: LoRA r=4, lora_alpha=8 on every linear layer of the decoder (Phi-3: the fused qkv_proj and
    gate_up_proj), saved by PEFT, with lora_A and lora_B drawn at random (B non-zero, so that the adapter matters and
    every gradient is non-trivial);
  - `peft_grads.safetensors`: the gradient of loss = peft_loss (the sum of the log-probs of `lora.sequence`) with
    respect to every lora_A and lora_B, float64 computation stored as float32, under Fledge's parameter names (PEFT's
    keys without `base_model.model.` and `.default`), as make_lora_fixtures.py stores them;
- `<model_type>_classifier/`: the family's sequence classifier (transformers' ...ForSequenceClassification) with the
  family's config cut to its first two layers, as `save_pretrained` writes it, and `expected.json` with `classifier`: `sequences`, `scores` (the score row at the last
  non-pad token, each sequence alone) and `batch_scores` (one left-padded batch with its attention mask, as
  make_model_fixtures.py does), plus `versions`.

Every weight is drawn from a seeded generator: norm weights away from their identity (Gemma's (1 + w) norms:
w = 0.3 N(0, 1); the others 1 + 0.3 N(0, 1)), biases non-zero where the config has them, embeddings N(0, 1) (tied
heads: smaller, with a final norm weight of random sign, see `randomize`), projections 1.2 / sqrt(fan_in) N(0, 1),
output heads 2.5 / sqrt(fan_in) N(0, 1). Everything runs on the CPU in float32 with eager attention and one thread
(LoRA gradients in float64), so that the files are the same on every run (except base_model_name_or_path in
adapter_config.json, which is the path the script was given).

`--check` reloads each directory with transformers (and the adapter with PEFT), recomputes every expected value and
compares: log-probs and classifier scores within 1e-5, greedy tokens identical, LoRA gradients within 1e-6 of each
tensor's largest value; it also loads each model with config.transformers4.json in place of config.json and compares
its log-probs, and prints how far float32 PEFT gradients are from the stored float64 ones (what a float32
implementation can hope for).
"""
import json
import math
import os
import shutil
import sys
import tempfile

import peft
import torch
import transformers
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import (AttentionInterface, AutoModelForCausalLM, AutoModelForSequenceClassification,
                          Gemma2Config, Gemma3TextConfig, GenerationConfig, LogitsProcessorList, Olmo2Config,
                          Phi3Config, SmolLM3Config)
from transformers.models.gemma2.modeling_gemma2 import eager_attention_forward

PAD, BOS, EOS = 0, 1, 2
SCORE_LENGTHS = [13, 30, 8]
PROMPT_LENGTHS = [6, 11, 3]
NEW_TOKENS = 30
LORA_LENGTH = 26
CLASSIFIER_LENGTHS = [11, 26, 8]
CLASSIFIER_LAYERS = 2
ATTENTION = "eager"
COMMON = dict(bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD)
LLAMA_LINEARS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# Phi-3 longrope: 6 rotary frequency pairs (head_dim 16 x partial_rotary_factor 0.75 / 2).
PHI3_SHORT_FACTOR = [1.0, 1.25, 1.6, 2.1, 2.9, 3.7]
PHI3_LONG_FACTOR = [1.1, 1.9, 3.4, 5.8, 9.5, 14.0]


# ---------------------------------------------------------------------------------------------------------------
# Switches: one setting turned off, to measure how much it changes the outputs (`probes.switched_off`)


def edit(**values):
    """Sets top-level config.json fields."""
    return lambda config, weights: config.update(values)


def edit_rope(layer_type, **values):
    """Sets fields of rope_parameters (of one layer type's where they are per layer type); None removes a field."""
    def apply(config, weights):
        rope = config["rope_parameters"] if layer_type is None else config["rope_parameters"][layer_type]
        rope.update(values)
        for key in [k for k, v in rope.items() if v is None]:
            del rope[key]
    return apply


def norm_weights(value, *parts):
    """Sets the norm weights (those whose names contain one of `parts`, if any are given) to `value`."""
    def apply(config, weights):
        for name, tensor in weights.items():
            if name.endswith("norm.weight") and (not parts or any(part in name for part in parts)):
                tensor.fill_(value)
    return apply


def zero_biases(config, weights):
    for name, tensor in weights.items():
        if name.endswith(".bias"):
            tensor.zero_()


def families():
    """(model_type, config, options): the five families' tiny configs. Shapes are non-square throughout."""
    return [
        ("gemma2", Gemma2Config(
            vocab_size=192, hidden_size=32, intermediate_size=56, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, head_dim=12, query_pre_attn_scalar=20, max_position_embeddings=128,
            rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
            sliding_window=5, attn_logit_softcapping=4.0, final_logit_softcapping=5.0,
            hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **COMMON),
         dict(weights=dict(gemma_norms=True, embedding_scale=0.2, signed_final_norm=True), labels=2,
              targets=LLAMA_LINEARS, seed=1, switches={
                  "attn_logit_softcapping null": edit(attn_logit_softcapping=None),
                  "final_logit_softcapping null": edit(final_logit_softcapping=None),
                  "no sliding window": edit(sliding_window=128),
                  "query_pre_attn_scalar = head_dim": edit(query_pre_attn_scalar=12)})),
        ("gemma3_text", Gemma3TextConfig(
            vocab_size=224, hidden_size=40, intermediate_size=72, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=1, head_dim=16, query_pre_attn_scalar=24, max_position_embeddings=128,
            rms_norm_eps=1e-6, sliding_window=6, attention_bias=True,
            layer_types=["sliding_attention", "sliding_attention", "full_attention", "sliding_attention"],
            rope_parameters={"full_attention": {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
            hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **COMMON),
         dict(weights=dict(gemma_norms=True, embedding_scale=0.3, signed_final_norm=True), labels=1,
              targets=LLAMA_LINEARS, seed=2, sliding_window_pattern=3, switches={
                  "no sliding window": edit(sliding_window=128),
                  "local rope_theta = global": edit_rope("sliding_attention", rope_theta=1000000.0),
                  "no linear scaling on global layers": edit_rope("full_attention", rope_type="default", factor=None),
                  "query_pre_attn_scalar = head_dim": edit(query_pre_attn_scalar=16)})),
        ("phi3", Phi3Config(
            vocab_size=176, hidden_size=48, intermediate_size=80, num_hidden_layers=3, num_attention_heads=3,
            num_key_value_heads=1, max_position_embeddings=96, original_max_position_embeddings=24,
            rms_norm_eps=1e-5, sliding_window=7, tie_word_embeddings=False,
            rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.75,
                             "short_factor": PHI3_SHORT_FACTOR, "long_factor": PHI3_LONG_FACTOR},
            **COMMON),
         dict(labels=3, targets=["qkv_proj", "o_proj", "gate_up_proj", "down_proj"], seed=3, switches={
             "short_factor all 1": edit_rope(None, short_factor=[1.0] * 6),
             "long_factor = short_factor": edit_rope(None, long_factor=PHI3_SHORT_FACTOR),
             "attention factor 1 (max_position_embeddings = original)": edit(max_position_embeddings=24),
             "no sliding window": edit(sliding_window=None)})),
        ("smollm3", SmolLM3Config(
            vocab_size=144, hidden_size=48, intermediate_size=80, num_hidden_layers=4, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 50000.0},
            no_rope_layers=[1, 0, 0, 1], use_sliding_window=True, sliding_window=6,
            layer_types=["sliding_attention", "full_attention", "sliding_attention", "full_attention"],
            attention_bias=False, mlp_bias=True, tie_word_embeddings=True, **COMMON),
         dict(weights=dict(embedding_scale=0.5, signed_final_norm=True), labels=1, targets=LLAMA_LINEARS, seed=4,
              switches={"rope on every layer": edit(no_rope_layers=[1, 1, 1, 1]),
                        "no sliding window": edit(layer_types=["full_attention"] * 4)})),
        ("olmo2", Olmo2Config(
            vocab_size=208, hidden_size=48, intermediate_size=64, num_hidden_layers=3, num_attention_heads=6,
            num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, attention_bias=True,
            tie_word_embeddings=False, **COMMON),
         dict(labels=2, targets=LLAMA_LINEARS, seed=5, switches={
             "q_norm and k_norm weights 1": norm_weights(1.0, "q_norm", "k_norm")})),
    ]


def versions():
    return {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}


# ---------------------------------------------------------------------------------------------------------------
# Weights and inputs


def randomize(model, generator, gemma_norms=False, embedding_scale=1.0, signed_final_norm=False, head_scale=2.5):
    """Random weights keeping activations of order 1; norm weights away from their identity value.

    Tied output heads (Gemma, SmolLM3) read the input embedding back, which makes a random model predict the token it
    just read; a smaller `embedding_scale` and a final norm weight of random sign (`signed_final_norm`: w ~ N(-1, 1)
    for (1 + w) norms, N(0, 1) otherwise) break that, so that greedy decoding does not repeat one token."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=generator)
            if name == "model.norm.weight" and signed_final_norm:
                p.copy_(noise - 1 if gemma_norms else noise)
            elif name.endswith("norm.weight"):
                p.copy_(0.3 * noise if gemma_norms else 1 + 0.3 * noise)
            elif name.endswith("bias"):
                p.copy_(0.3 * noise)
            elif "embed_tokens" in name:
                p.copy_(embedding_scale * noise)
            else:
                scale = head_scale if name.startswith("lm_head") or name.startswith("score") else 1.2
                p.copy_(scale / math.sqrt(p.shape[1]) * noise)


def sequences(generator, vocab, lengths):
    return [torch.randint(3, vocab, (n,), generator=generator).tolist() for n in lengths]


def left_pad(batch):
    """Left-padded ids, attention mask and the position ids generate derives (cumsum of the mask - 1, pads 0)."""
    width = max(len(s) for s in batch)
    ids = torch.tensor([[PAD] * (width - len(s)) + s for s in batch])
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in batch])
    positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 0)
    return ids, mask, positions


# ---------------------------------------------------------------------------------------------------------------
# What transformers computes


def load_causal(path):
    return AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation=ATTENTION).eval()


def token_logprobs(model, ids):
    """log p(ids[t] | ids[:t]) for t = 1 ... n-1 of one sequence alone."""
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    return [logp[t - 1, ids[t]].item() for t in range(1, len(ids))]


def batch_token_logprobs(model, seqs):
    """The same per-token log-probs, from one left-padded batch of all sequences."""
    ids, mask, positions = left_pad(seqs)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits.float()
    logp = torch.log_softmax(logits, -1)
    width = ids.shape[1]
    rows = []
    for row, s in enumerate(seqs):
        start = width - len(s)
        rows.append([logp[row, start + t - 1, s[t]].item() for t in range(1, len(s))])
    return rows


def greedy(model, prompts):
    ids, mask, _ = left_pad(prompts)
    gaps = []

    class Gap:
        def __call__(self, input_ids, scores):
            top = torch.topk(scores.float(), 2, dim=-1).values
            gaps.append((top[:, 0] - top[:, 1]).min().item())
            return scores

    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=NEW_TOKENS, do_sample=False,
                             use_cache=True, eos_token_id=[EOS], pad_token_id=PAD,
                             logits_processor=LogitsProcessorList([Gap()]))
    rows = []
    for row in out[:, ids.shape[1]:].tolist():
        kept = []
        for token in row:
            kept.append(token)
            if token == EOS:
                break
        rows.append(kept)
    return rows, min(gaps)


def score_section(model, generator, vocab):
    seqs = sequences(generator, vocab, SCORE_LENGTHS)
    batch = batch_token_logprobs(model, seqs)
    ids, mask, positions = left_pad(seqs)
    score = [{"ids": s, "logprobs": token_logprobs(model, s), "batch_logprobs": b} for s, b in zip(seqs, batch)]
    return score, {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "position_ids": positions.tolist()}


def greedy_section(model, generator, vocab):
    prompts = sequences(generator, vocab, PROMPT_LENGTHS)
    singles, gaps = [], []
    for p in prompts:
        rows, gap = greedy(model, [p])
        singles.append(rows[0])
        gaps.append(gap)
    batch, gap = greedy(model, prompts)
    gaps.append(gap)
    return {"prompts": prompts, "new_ids": singles, "batch_new_ids": batch, "min_greedy_gap": min(gaps), "eos": [EOS]}


def classifier_section(model, seqs):
    with torch.no_grad():
        alone = [model(torch.tensor([s])).logits[0].tolist() for s in seqs]
        ids, mask, _ = left_pad(seqs)
        batch = model(input_ids=ids, attention_mask=mask).logits.tolist()
    return {"sequences": seqs, "scores": alone, "batch_scores": batch}


# ---------------------------------------------------------------------------------------------------------------
# LoRA


def fledge_name(peft_name):
    """base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight -> model.layers.0....lora_A.weight"""
    return peft_name.removeprefix("base_model.model.").replace(".default.", ".")


def save_peft_adapter(path, targets, generator):
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation=ATTENTION)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules=targets,
                                             task_type="CAUSAL_LM"))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_A" in name:
                p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(p.shape[1]))
            elif "lora_B" in name:
                p.copy_(0.2 * torch.randn(p.shape, generator=generator))
    adapter = os.path.join(path, "peft_adapter")
    shutil.rmtree(adapter, ignore_errors=True)
    model.save_pretrained(adapter)
    readme = os.path.join(adapter, "README.md")  # PEFT's model-card template
    if os.path.exists(readme):
        os.remove(readme)
    # PEFT writes target_modules from a set, in an order that changes from run to run.
    config_path = os.path.join(adapter, "adapter_config.json")
    adapter_config = read_json(config_path)
    adapter_config["target_modules"] = sorted(adapter_config["target_modules"])
    with open(config_path, "w") as f:
        json.dump(adapter_config, f, indent=2, sort_keys=True)
        f.write("\n")


def with_adapter(path, dtype):
    base = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, attn_implementation=ATTENTION)
    return PeftModel.from_pretrained(base, os.path.join(path, "peft_adapter")).to(dtype).eval()


def sequence_logprobs(model, ids):
    logits = model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, -1)
    return logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]


def lora_gradients(path, ids, dtype):
    """loss = sum of the sequence's log-probs with the adapter; its value, the log-probs and every LoRA gradient."""
    model = with_adapter(path, dtype)
    lora = {name: p for name, p in model.named_parameters() if "lora_" in name}
    for p in lora.values():
        p.requires_grad_(True)
    logprobs = sequence_logprobs(model, ids)
    loss = logprobs.sum()
    loss.backward()
    with torch.no_grad(), model.disable_adapter():
        base = sequence_logprobs(model, ids)
    grads = {fledge_name(name): p.grad.detach().float().contiguous() for name, p in lora.items()}
    return loss.item(), logprobs.tolist(), base.tolist(), grads


# ---------------------------------------------------------------------------------------------------------------
# Probes: measured evidence that each family's settings bite on the test inputs


class AttentionProbe:
    """An attention function that records the largest |score| (after scaling, before soft-capping) over the
    positions the mask allows, then runs transformers' eager attention."""

    def __init__(self):
        self.max_abs_score = 0.0

    def __call__(self, module, query, key, value, attention_mask, **kwargs):
        groups = query.shape[1] // key.shape[1]
        keys = key.repeat_interleave(groups, dim=1)
        scores = torch.matmul(query, keys.transpose(2, 3)) * kwargs["scaling"]
        allowed = torch.ones_like(scores, dtype=torch.bool) if attention_mask is None else attention_mask > -1
        self.max_abs_score = max(self.max_abs_score, scores[allowed.expand_as(scores)].abs().max().item())
        return eager_attention_forward(module, query, key, value, attention_mask, **kwargs)


def probes(model_type, path, score, options):
    """Values showing the settings bite: soft-cap ratios (|x| / cap, tanh is far from linear above ~0.5),
    sliding windows against the sequence lengths, Phi-3's rope regime per sequence."""
    config = read_json(os.path.join(path, "config.json"))
    lengths = [len(case["ids"]) for case in score]
    result = {"score_lengths": lengths}
    if config.get("sliding_window"):
        result["sliding_window"] = config["sliding_window"]
        result["sliding_attention_layers"] = [i for i, t in enumerate(config.get("layer_types") or []) if
                                              t == "sliding_attention"] or "all"
    if model_type == "gemma2":
        probe = AttentionProbe()
        AttentionInterface.register("fledge_probe", probe)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                     attn_implementation="fledge_probe").eval()
        captured = []
        model.lm_head.register_forward_hook(lambda module, args, out: captured.append(out.abs().max().item()))
        with torch.no_grad():
            for case in score:
                model(torch.tensor([case["ids"]]))
        attn_cap, final_cap = config["attn_logit_softcapping"], config["final_logit_softcapping"]
        result.update({
            "max_abs_attention_score_before_cap": probe.max_abs_score,
            "attention_score_over_cap": probe.max_abs_score / attn_cap,
            "max_abs_logit_before_cap": max(captured),
            "logit_over_cap": max(captured) / final_cap,
        })
    if model_type == "phi3":
        original = config["original_max_position_embeddings"]
        result["original_max_position_embeddings"] = original
        result["rope_regime_alone"] = ["long" if n > original else "short" for n in lengths]
        result["rope_regime_batch"] = "long" if max(lengths) > original else "short"
    result["switched_off"] = switched_off(path, score, options)
    return result


def switched_off(path, score, options):
    """For each setting switched off in turn (config fields or weights changed), the largest change of a log-prob
    of the score sequences: an implementation that ignored the setting would be off by that much."""
    weights = read_weights(path)
    identity = 0.0 if options.get("weights", {}).get("gemma_norms") else 1.0
    switches = {"norm weights at their identity": norm_weights(identity)}
    if any(name.endswith(".bias") for name in weights):
        switches["biases zero"] = zero_biases
    result = {}
    for label, switch in {**switches, **options["switches"]}.items():
        config, changed = read_json(os.path.join(path, "config.json")), read_weights(path)
        switch(config, changed)
        model = load_variant(config, changed)
        result[label] = max(abs(a - b) for case in score
                            for a, b in zip(token_logprobs(model, case["ids"]), case["logprobs"]))
    return result


def read_weights(path):
    with safe_open(os.path.join(path, "model.safetensors"), "pt") as f:
        return {name: f.get_tensor(name) for name in f.keys()}


def load_variant(config, weights):
    """The causal LM of a config.json object and weights, through a scratch model directory."""
    scratch = tempfile.mkdtemp()
    try:
        write_json(os.path.join(scratch, "config.json"), config)
        save_file(weights, os.path.join(scratch, "model.safetensors"), metadata={"format": "pt"})
        return load_causal(scratch)
    finally:
        shutil.rmtree(scratch)


# ---------------------------------------------------------------------------------------------------------------
# Config with the field names of the published checkpoints


def write_transformers4_config(model_type, path, options):
    """config.json rewritten as transformers 4 (and the published checkpoints) write it."""
    config = read_json(os.path.join(path, "config.json"))
    rope = config.pop("rope_parameters")
    if model_type == "gemma3_text":
        full, sliding = rope["full_attention"], rope["sliding_attention"]
        config["rope_theta"] = full["rope_theta"]
        config["rope_local_base_freq"] = sliding["rope_theta"]
        config["rope_scaling"] = {"rope_type": full["rope_type"], "factor": full["factor"]}
        config["sliding_window_pattern"] = options["sliding_window_pattern"]
        config.pop("_sliding_window_pattern")
        config.pop("layer_types")
    elif model_type == "phi3":
        config["rope_theta"] = rope["rope_theta"]
        config["partial_rotary_factor"] = rope["partial_rotary_factor"]
        config["rope_scaling"] = {"type": "longrope", "short_factor": rope["short_factor"],
                                  "long_factor": rope["long_factor"]}
    else:
        config["rope_theta"] = rope["rope_theta"]
        config["rope_scaling"] = None
        if model_type == "gemma2":
            config.pop("layer_types")
    with open(os.path.join(path, "config.transformers4.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------------------------------------------------------
# Writing


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)


def read_json(path):
    with open(path) as f:
        return json.load(f)


def make_family(out_dir, model_type, config, options):
    generator = torch.Generator().manual_seed(1000 + options["seed"])
    torch.manual_seed(options["seed"])

    path = os.path.join(out_dir, model_type)
    shutil.rmtree(path, ignore_errors=True)
    config._attn_implementation = ATTENTION
    model = AutoModelForCausalLM.from_config(config)
    randomize(model, generator, **options.get("weights", {}))
    model.save_pretrained(path)
    GenerationConfig(bos_token_id=BOS, eos_token_id=EOS, pad_token_id=PAD).save_pretrained(path)
    write_transformers4_config(model_type, path, options)

    model = load_causal(path)
    vocab = config.vocab_size
    score, score_batch = score_section(model, generator, vocab)
    expected = {"model_type": model_type, "versions": versions(), "score": score, "score_batch": score_batch,
                "greedy": greedy_section(model, generator, vocab)}

    save_peft_adapter(path, options["targets"], generator)
    lora_ids = sequences(generator, vocab, [LORA_LENGTH])[0]
    loss, logprobs, base, grads = lora_gradients(path, lora_ids, torch.float64)
    save_file(grads, os.path.join(path, "peft_grads.safetensors"))
    expected["lora"] = {"sequence": lora_ids, "targets": options["targets"], "r": 4, "lora_alpha": 8,
                        "peft_loss": loss, "peft_logprobs": logprobs, "base_logprobs": base}
    expected["probes"] = probes(model_type, path, score, options)
    write_json(os.path.join(path, "expected.json"), expected)

    classifier_path = path + "_classifier"
    shutil.rmtree(classifier_path, ignore_errors=True)
    classifier = AutoModelForSequenceClassification.from_config(classifier_config(config, options["labels"]))
    randomize(classifier, generator, **options.get("weights", {}))
    classifier.save_pretrained(classifier_path)
    classifier = load_classifier(classifier_path)
    seqs = sequences(generator, vocab, CLASSIFIER_LENGTHS)
    write_json(os.path.join(classifier_path, "expected.json"),
               {"model_type": model_type, "versions": versions(), "classifier": classifier_section(classifier, seqs)})
    report(path, classifier_path, expected)


def classifier_config(config, labels):
    """The family's config with `labels` outputs and only its first CLASSIFIER_LAYERS layers (the decoder itself is
    checked by the causal LM; this keeps the fixture small)."""
    settings = {k: v for k, v in config.to_dict().items() if k not in ("id2label", "label2id")}
    for key in ("layer_types", "no_rope_layers"):
        if key in settings:
            settings[key] = settings[key][:CLASSIFIER_LAYERS]
    result = type(config).from_dict({**settings, "num_labels": labels, "num_hidden_layers": CLASSIFIER_LAYERS})
    result._attn_implementation = ATTENTION
    return result


def load_classifier(path):
    return AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32,
                                                              attn_implementation=ATTENTION).eval()


def report(path, classifier_path, expected):
    def size(directory):
        return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(directory) for name in names)

    alone_vs_batch = max(abs(a - b) for case in expected["score"] for a, b in zip(case["logprobs"], case["batch_logprobs"]))
    greedy = expected["greedy"]
    print(f"{os.path.basename(path)}: {size(path) / 1024:.0f} KiB, classifier {size(classifier_path) / 1024:.0f} KiB; "
          f"alone vs batch log-probs {alone_vs_batch:.2g}; min greedy gap {greedy['min_greedy_gap']:.3g}; "
          f"batch greedy {'equals' if greedy['batch_new_ids'] == greedy['new_ids'] else 'differs from'} alone; "
          f"probes {json.dumps(expected['probes'])}")


# ---------------------------------------------------------------------------------------------------------------
# Checking


class Checker:
    def __init__(self):
        self.failures = []

    def close(self, what, actual, expected, tolerance):
        worst = max((abs(a - e) for a, e in zip(flatten(actual), flatten(expected))), default=0.0)
        ok = worst <= tolerance and len(flatten(actual)) == len(flatten(expected))
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: max abs diff {worst:.3g}")
        if not ok:
            self.failures.append(what)

    def equal(self, what, actual, expected):
        ok = actual == expected
        print(f"  {'ok  ' if ok else 'FAIL'} {what}: {'identical' if ok else f'{actual} != {expected}'}")
        if not ok:
            self.failures.append(what)


def flatten(value):
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flatten(item)]
    return [value]


def check_family(out_dir, model_type, checker):
    path = os.path.join(out_dir, model_type)
    expected = read_json(os.path.join(path, "expected.json"))
    print(f"{model_type} (made with {expected['versions']}, checking with {versions()})")
    model = load_causal(path)
    score = expected["score"]
    seqs = [case["ids"] for case in score]
    checker.close("log-probs alone", [token_logprobs(model, s) for s in seqs], [c["logprobs"] for c in score], 1e-5)
    checker.close("log-probs left-padded batch", batch_token_logprobs(model, seqs),
                  [c["batch_logprobs"] for c in score], 1e-5)
    legacy = load_variant(read_json(os.path.join(path, "config.transformers4.json")), read_weights(path))
    checker.close("log-probs alone, config.transformers4.json", [token_logprobs(legacy, s) for s in seqs],
                  [c["logprobs"] for c in score], 1e-5)
    checker.close("log-probs batch, config.transformers4.json", batch_token_logprobs(legacy, seqs),
                  [c["batch_logprobs"] for c in score], 1e-5)
    greedy_expected = expected["greedy"]
    prompts = greedy_expected["prompts"]
    checker.equal("greedy alone", [greedy(model, [p])[0][0] for p in prompts], greedy_expected["new_ids"])
    checker.equal("greedy left-padded batch", greedy(model, prompts)[0], greedy_expected["batch_new_ids"])
    checker.equal("greedy batch, config.transformers4.json", greedy(legacy, prompts)[0],
                  greedy_expected["batch_new_ids"])

    lora = expected["lora"]
    loss, logprobs, base, grads = lora_gradients(path, lora["sequence"], torch.float64)
    checker.close("LoRA loss", [loss], [lora["peft_loss"]], 1e-6)
    checker.close("LoRA log-probs", logprobs, lora["peft_logprobs"], 1e-6)
    checker.close("base log-probs (adapter off)", base, lora["base_logprobs"], 1e-6)
    with safe_open(os.path.join(path, "peft_grads.safetensors"), "pt") as f:
        stored = {key: f.get_tensor(key) for key in f.keys()}
    checker.equal("LoRA gradient names", sorted(grads), sorted(stored))
    worst = max(relative_error(grads[name], stored[name]) for name in stored)
    checker.close("LoRA gradients (relative to each tensor's largest value)", [worst], [0.0], 1e-6)
    _, _, _, grads32 = lora_gradients(path, lora["sequence"], torch.float32)
    worst32 = max(relative_error(grads32[name], stored[name]) for name in stored)
    print(f"  note: float32 PEFT gradients vs the stored float64 ones: max relative error {worst32:.3g}")

    classifier_path = path + "_classifier"
    classifier_expected = read_json(os.path.join(classifier_path, "expected.json"))["classifier"]
    recomputed = classifier_section(load_classifier(classifier_path), classifier_expected["sequences"])
    checker.close("classifier scores alone", recomputed["scores"], classifier_expected["scores"], 1e-5)
    checker.close("classifier scores batch", recomputed["batch_scores"], classifier_expected["batch_scores"], 1e-5)


def relative_error(actual, expected):
    return ((actual.double() - expected.double()).abs().max() / expected.double().abs().max()).item()


def main():
    arguments = [a for a in sys.argv[1:] if a != "--check"]
    out_dir = arguments[0] if arguments else "Tests/FledgeLMTests/Fixtures/families"
    torch.set_num_threads(1)  # one summation order from run to run
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if "--check" in sys.argv:
        checker = Checker()
        for model_type, _, _ in families():
            check_family(out_dir, model_type, checker)
        if checker.failures:
            sys.exit(f"{len(checker.failures)} checks failed: {checker.failures}")
        print("all checks passed")
        return
    os.makedirs(out_dir, exist_ok=True)
    for model_type, config, options in families():
        make_family(out_dir, model_type, config, options)


if __name__ == "__main__":
    main()
