"""Tiny random-init Hugging Face model directories and what transformers computes with them.

    python3 Scripts/reference/make_model_fixtures.py [OUT_DIR]

Writes, under OUT_DIR (default Tests/FledgeLMTests/Fixtures/models), one directory per family
and variant, as `save_pretrained` writes it (config.json, model.safetensors or shards with
model.safetensors.index.json, generation_config.json), plus `expected.json`:

- `score`: for a few token sequences, log p(token t | tokens before t) for t = 1 ... n-1
  (float32 forward, weights upcast to float32 where stored in float16/bfloat16);
- `greedy`: prompts, the 30 new tokens greedy decoding gives for each alone, and the same
  prompts as one left-padded batch (`batch_new_ids`);
- `classifier` (sequence-classification models): the score rows at the last non-pad token,
  each sequence alone and as a left-padded batch.

Every parameter is drawn at random (norm weights near 1, biases nonzero) with a scale that keeps
activations of order 1 and makes greedy choices decisive; `min_greedy_gap` records the smallest
gap between the top two logits seen during greedy decoding, so that a test failure can be told
apart from a near tie. Shapes are tiny and non-square.

`--bench-config DIR` instead writes only the config.json of a SmolLM2-135M-shaped model (no
weights; `fledge bench generate` and Scripts/bench/hf_generate.py draw random weights at run time).
"""
import json
import math
import os
import shutil
import sys

import torch
from transformers import (AutoModelForCausalLM, AutoModelForSequenceClassification, GenerationConfig, LlamaConfig,
                          MistralConfig, Qwen2Config, Qwen3Config)

VOCAB = 160
PAD = 0
BASE = dict(vocab_size=VOCAB, hidden_size=48, intermediate_size=72, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, head_dim=16, max_position_embeddings=256, rms_norm_eps=1e-6,
            bos_token_id=1, eos_token_id=2, pad_token_id=PAD)


def variants():
    """(name, config class, config kwargs, options)."""
    return [
        # GQA, attention and MLP biases, untied, classic `rope_theta` + `rope_scaling` linear.
        ("llama_gqa_bias_linear", LlamaConfig,
         dict(attention_bias=True, mlp_bias=True, rope_theta=20000.0,
              rope_scaling={"rope_type": "linear", "factor": 2.0}),
         dict(classic_rope=True)),
        # llama3 rope scaling, tied embeddings, bfloat16 weights, transformers 5 `rope_parameters`.
        ("llama3_tied_bf16", LlamaConfig,
         dict(tie_word_embeddings=True, num_key_value_heads=1,
              rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
                               "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
         dict(dtype=torch.bfloat16)),
        # dynamic NTK rope that grows past max_position_embeddings during generation; sharded checkpoint.
        ("llama_dynamic_sharded", LlamaConfig,
         dict(max_position_embeddings=24, rope_theta=10000.0, rope_scaling={"type": "dynamic", "factor": 2.0}),
         dict(classic_rope=True, shard="40KB", fresh_per_call=True)),
        # sliding window smaller than the sequences; two EOS ids in generation_config.json.
        ("mistral_sliding", MistralConfig,
         dict(sliding_window=5, rope_theta=10000.0),
         dict(eos=[2, 7])),
        # q/k/v biases, tied, float16 weights.
        ("qwen2_bias_tied_fp16", Qwen2Config,
         dict(tie_word_embeddings=True, rope_theta=1000000.0),
         dict(dtype=torch.float16)),
        # per-head q/k RMSNorm, head_dim not hidden/heads.
        ("qwen3_qknorm", Qwen3Config,
         dict(head_dim=12, rope_theta=1000000.0),
         dict()),
        # reward model: one label.
        ("llama_reward", LlamaConfig,
         dict(num_labels=1, rope_theta=10000.0),
         dict(classifier=True)),
        # two-label Qwen2 classifier.
        ("qwen2_classifier", Qwen2Config,
         dict(num_labels=2, rope_theta=10000.0),
         dict(classifier=True)),
    ]


def randomize(model, generator, head_scale=2.5):
    """Random weights keeping activations of order 1; `head_scale` sets how peaked the output head's logits are."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            elif name.endswith("bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
            elif "embed_tokens" in name:
                p.copy_(torch.randn(p.shape, generator=generator))
            else:
                fan_in = p.shape[1]
                scale = head_scale if name.startswith("lm_head") or name.startswith("score") else 1.2
                p.copy_(scale / math.sqrt(fan_in) * torch.randn(p.shape, generator=generator))


def sequences(generator, lengths):
    return [torch.randint(3, VOCAB, (n,), generator=generator).tolist() for n in lengths]


def left_pad(batch):
    width = max(len(s) for s in batch)
    ids = torch.tensor([[PAD] * (width - len(s)) + s for s in batch])
    mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in batch])
    return ids, mask


def token_logprobs(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].float()
    logp = torch.log_softmax(logits, -1)
    return [logp[t - 1, ids[t]].item() for t in range(1, len(ids))]


def greedy(model, prompts, new_tokens, eos):
    ids, mask = left_pad(prompts)
    gaps = []

    class Gap:
        def __call__(self, input_ids, scores):
            top = torch.topk(scores.float(), 2, dim=-1).values
            gaps.append((top[:, 0] - top[:, 1]).min().item())
            return scores

    from transformers import LogitsProcessorList
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=new_tokens, do_sample=False,
                             eos_token_id=eos, pad_token_id=PAD, logits_processor=LogitsProcessorList([Gap()]))
    rows = []
    for row in out[:, ids.shape[1]:].tolist():
        kept = []
        for token in row:
            kept.append(token)
            if token in eos:
                break
        rows.append(kept)
    return rows, min(gaps)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--bench-config":
        write_bench_config(sys.argv[2])
        return
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/models"
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    make_text_fixture(out_dir)
    for index, (name, config_class, kwargs, options) in enumerate(variants()):
        generator = torch.Generator().manual_seed(100 + index)
        config = config_class(**{**BASE, **kwargs})
        if options.get("classifier"):
            model = AutoModelForSequenceClassification.from_config(config)
        else:
            model = AutoModelForCausalLM.from_config(config)
        randomize(model, generator)
        path = os.path.join(out_dir, name)
        shutil.rmtree(path, ignore_errors=True)
        dtype = options.get("dtype", torch.float32)
        model.to(dtype).save_pretrained(path, max_shard_size=options.get("shard", "50GB"))
        eos = options.get("eos", [2])
        if not options.get("classifier"):
            GenerationConfig(bos_token_id=1, eos_token_id=eos if len(eos) > 1 else eos[0], pad_token_id=PAD).save_pretrained(path)
        if options.get("classic_rope"):
            rewrite_classic_rope(os.path.join(path, "config.json"), kwargs)

        def load():
            cls = AutoModelForSequenceClassification if options.get("classifier") else AutoModelForCausalLM
            return cls.from_pretrained(path, dtype=torch.float32).eval()

        model = load()
        expected = {"model_type": config.model_type}
        if options.get("classifier"):
            seqs = sequences(generator, [9, 14, 5])
            with torch.no_grad():
                alone = [model(torch.tensor([s])).logits[0].tolist() for s in seqs]
                ids, mask = left_pad(seqs)
                batch = model(input_ids=ids, attention_mask=mask).logits.tolist()
            expected["classifier"] = {"sequences": seqs, "scores": alone, "batch_scores": batch}
        else:
            seqs = sequences(generator, [12, 30, 7])
            score = []
            for s in seqs:
                if options.get("fresh_per_call"):
                    model = load()
                score.append({"ids": s, "logprobs": token_logprobs(model, s)})
            expected["score"] = score
            prompts = sequences(generator, [6, 11, 3])
            singles, gaps = [], []
            for p in prompts:
                if options.get("fresh_per_call"):
                    model = load()
                rows, gap = greedy(model, [p], 30, eos)
                singles.append(rows[0])
                gaps.append(gap)
            if options.get("fresh_per_call"):
                model = load()
            batch, gap = greedy(model, prompts, 30, eos)
            gaps.append(gap)
            expected["greedy"] = {"prompts": prompts, "new_ids": singles, "batch_new_ids": batch,
                                  "min_greedy_gap": min(gaps), "eos": eos}
            if batch != singles:
                print(f"{name}: note: transformers' left-padded batch differs from the prompts alone")
        with open(os.path.join(path, "expected.json"), "w") as f:
            json.dump(expected, f)
        size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
        print(f"{name}: {size / 1024:.0f} KiB")


CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def make_text_fixture(out_dir):
    """A Qwen2 model with the locally trained qwen2 tokenizer of the tokenizer fixtures (plus a
    ChatML template): text scoring, a chat prompt's greedy generation and its decoded text."""
    from transformers import AutoTokenizer
    source = os.path.join(os.path.dirname(out_dir.rstrip("/")), "tokenizers", "qwen2")
    path = os.path.join(out_dir, "qwen2_text")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    write_chat_tokenizer(source, path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(**{**BASE, "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 40,
                            "num_hidden_layers": 1, "head_dim": 8, "tie_word_embeddings": True, "rope_theta": 10000.0,
                            "bos_token_id": None, "eos_token_id": eos, "pad_token_id": pad})
    model = AutoModelForCausalLM.from_config(config)
    randomize(model, torch.Generator().manual_seed(7))
    model.to(torch.float16).save_pretrained(path)
    GenerationConfig(eos_token_id=eos, pad_token_id=pad).save_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    text = "Hello world, fledge learns to fly!"
    ids = tokenizer(text)["input_ids"]
    chat = tokenizer.apply_chat_template([{"role": "user", "content": "Say hello"}], add_generation_prompt=True,
                                         tokenize=True, return_dict=False)
    if isinstance(chat, dict):
        chat = chat["input_ids"]
    rows, gap = greedy(model, [chat], 20, [eos])
    expected = {"text": text, "ids": ids, "logprobs": token_logprobs(model, ids), "chat_prompt": "Say hello",
                "chat_ids": chat, "new_ids": rows[0], "new_text": tokenizer.decode(rows[0], skip_special_tokens=True),
                "min_greedy_gap": gap}
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump(expected, f)
    size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
    print(f"qwen2_text: {size / 1024:.0f} KiB")


def write_chat_tokenizer(source, path, chat_template=CHATML):
    """Copies the tokenizer files of directory `source` into `path`, with a chat template (ChatML) added."""
    shutil.copy(os.path.join(source, "tokenizer.json"), path)
    with open(os.path.join(source, "tokenizer_config.json")) as f:
        tokenizer_config = json.load(f)
    tokenizer_config["chat_template"] = chat_template
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump(tokenizer_config, f, indent=2)


def rewrite_classic_rope(config_path, kwargs):
    """Writes the rope settings as transformers 4 did: top-level rope_theta and rope_scaling."""
    with open(config_path) as f:
        config = json.load(f)
    config.pop("rope_parameters", None)
    config["rope_theta"] = kwargs["rope_theta"]
    if "rope_scaling" in kwargs:
        config["rope_scaling"] = kwargs["rope_scaling"]
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)


SMOLLM2_135M = dict(vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                    num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5,
                    rope_theta=100000.0, tie_word_embeddings=True, bos_token_id=0, eos_token_id=0, pad_token_id=None)


def write_bench_config(path):
    os.makedirs(path, exist_ok=True)
    LlamaConfig(**SMOLLM2_135M).save_pretrained(path)


if __name__ == "__main__":
    main()
