"""Tiny GGUF models of the families beyond llama/qwen2/qwen3 (gemma2, gemma3, olmo2, smollm3, phi3)
and of a llama with Llama 3 rope scaling (`rope_freqs`), converted from tiny random Hugging Face models by llama.cpp's own convert_hf_to_gguf.py, and what
transformers and llama.cpp compute with them.

    /tmp/refvenv/bin/pip download --no-deps --no-binary :all: llama-cpp-python==0.3.36 -d /tmp/lcp
    tar xzf /tmp/lcp/llama_cpp_python-0.3.36.tar.gz -C /tmp/lcp
    /tmp/refvenv/bin/python Scripts/reference/make_gguf_family_fixtures.py /tmp/lcp/llama_cpp_python-0.3.36/vendor/llama.cpp

Writes Tests/FledgeLMTests/Fixtures/gguf/families/gemma3_tokenizer.gguf and phi3_tokenizer.gguf,
SentencePiece-style (`llama`) vocabularies as the converter writes Gemma's and Phi-3's (see
`sentencepiece_vocabulary`), and tokenizers.expected.json: the ids and decoded text transformers'
GGUF tokenizer gives for a varied corpus (llama.cpp's ids are compared and printed: Phi-3's agree on
every text; Gemma's differ on whitespace runs, which llama.cpp matches as user-defined tokens and
transformers merges into respelled `▁▁` tokens); copies of both are seeds of the `gguf` fuzz target.
`--tokenizers-only` stops there.

Then writes Tests/FledgeLMTests/Fixtures/gguf/families/NAME.gguf and families/expected.json: per file,
transformers' per-token log-probs of a few sequences and 30 greedy tokens after two prompts, computed
on the Hugging Face model the file was converted from, and that model's config.

The reference is the Hugging Face model, not transformers loading the GGUF file: transformers 5.x's
GGUF loader does not read olmo2 and smollm3 at all, ignores a llama's `rope_freqs` (Llama 3 rope
scaling), and for gemma2 and gemma3 it drops what the file does not spell out and llama.cpp fixes (query_pre_attn_scalar falls back to 256, the soft caps and the
sliding-window layout to its defaults), so that it computes another model (log-probs off by ~3 on
these fixtures; the script records the distance and the config fields it gets wrong under
`transformers_gguf`). For phi3, transformers loading the GGUF equals the HF model exactly. Where
transformers reads the file (gemma2, gemma3, phi3), the reference model gets the weights it reads
from it (dequantized, Gemma's norm weights shifted back by 1), so a Q8_0 file is compared with its
own values.

Every file is also run by llama.cpp (llama-cpp-python 0.3.36, logits_all, float32 KV cache) and the
script prints its greedy tokens' agreement and its log-prob distance to the reference. The tiny models
are configured as llama.cpp runs the architecture, since the GGUF file does not say otherwise:
Gemma's query_pre_attn_scalar = head_dim, Gemma 3's global layer every 6th, SmolLM3's NoPE layer every
4th and no sliding window.

The converter is run unmodified except for the vocabulary: the tiny models share the locally
trained byte-level BPE tokenizer of Tests/FledgeLMTests/Fixtures/tokenizers/gpt2, which llama.cpp's
tokenizer hash table does not know (its pre-tokenizer is written as `gpt-2`), and every family is
made to write it as a `gpt2` vocabulary (Gemma 2 and Phi-3 would otherwise need a SentencePiece
tokenizer.model). The vocabularies are not what these fixtures test.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zlib

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests/FledgeLMTests/Fixtures/gguf/families")
TOKENIZER = os.path.join(ROOT, "Tests/FledgeLMTests/Fixtures/tokenizers/gpt2")
VOCAB = 1205  # the gpt2 fixture tokenizer: 1200 tokens and 5 added ones
EOS = 1200

# Runs convert_hf_to_gguf.py with its vocabulary step made to write the byte-level BPE tokenizer as `gpt-2`.
CONVERT = r"""
import sys
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[1] + "/gguf-py")
sys.argv = [sys.argv[1] + "/convert_hf_to_gguf.py"] + sys.argv[2:]
from conversion import base
base.TextModel._set_vocab_sentencepiece = base.TextModel._set_vocab_gpt2
base.TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
import convert_hf_to_gguf
convert_hf_to_gguf.main()
"""


def families():
    from transformers import Gemma2Config, Gemma3TextConfig, LlamaConfig, Olmo2Config, Phi3Config, SmolLM3Config
    common = dict(vocab_size=VOCAB, bos_token_id=EOS, eos_token_id=EOS, pad_token_id=EOS, max_position_embeddings=128)
    return [
        # name, config, converter --outtype, whether transformers' GGUF loader reads the architecture
        ("gemma2_f32", Gemma2Config(
            hidden_size=32, intermediate_size=56, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
            head_dim=12, query_pre_attn_scalar=12, rms_norm_eps=1e-6, sliding_window=5, attn_logit_softcapping=4.0,
            final_logit_softcapping=5.0, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **common),
         "f32", True),
        ("gemma2_q8_0", Gemma2Config(
            hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
            head_dim=32, query_pre_attn_scalar=32, rms_norm_eps=1e-6, sliding_window=4, attn_logit_softcapping=50.0,
            final_logit_softcapping=30.0, hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **common),
         "q8_0", True),
        ("gemma3_f32", Gemma3TextConfig(
            hidden_size=40, intermediate_size=72, num_hidden_layers=7, num_attention_heads=4, num_key_value_heads=1,
            head_dim=16, query_pre_attn_scalar=16, rms_norm_eps=1e-6, sliding_window=6,
            rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1000000.0},
                             "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
            hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True, **common),
         "f32", True),
        ("olmo2_f32", Olmo2Config(
            hidden_size=48, intermediate_size=64, num_hidden_layers=3, num_attention_heads=6, num_key_value_heads=2,
            rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "rope_theta": 500000.0}, tie_word_embeddings=False,
            **common),
         "f32", False),
        ("smollm3_f32", SmolLM3Config(
            hidden_size=48, intermediate_size=80, num_hidden_layers=4, num_attention_heads=4, num_key_value_heads=2,
            rms_norm_eps=1e-6, rope_parameters={"rope_type": "default", "rope_theta": 50000.0}, no_rope_layers=[1, 1, 1, 0],
            use_sliding_window=False, tie_word_embeddings=True, **common),
         "f32", False),
        # Llama 3 rope scaling, which the converter writes as the `rope_freqs` tensor of per-pair
        # divisors; three pairs in the transition band (low_freq_factor 1, as in every Llama 3).
        ("llama3rope_f32", LlamaConfig(
            hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=3, num_key_value_heads=1,
            head_dim=16, rms_norm_eps=1e-5, tie_word_embeddings=False,
            rope_parameters={"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 32.0, "original_max_position_embeddings": 4096}, **common),
         "f32", False),
        ("phi3_f32", Phi3Config(
            hidden_size=48, intermediate_size=80, num_hidden_layers=2, num_attention_heads=3, num_key_value_heads=1,
            rms_norm_eps=1e-5, rope_parameters={"rope_type": "default", "rope_theta": 10000.0}, tie_word_embeddings=False,
            sliding_window=None, **common),
         "f32", True),
    ]


def randomize(model, generator):
    """Random weights keeping activations of order 1; norms away from their identity (Gemma's `1 + w` too)."""
    import math
    gemma = model.config.model_type.startswith("gemma")
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_((0 if gemma else 1) + 0.2 * torch.randn(p.shape, generator=generator))
            elif name.endswith("bias"):
                p.copy_(0.3 * torch.randn(p.shape, generator=generator))
            elif "embed_tokens" in name:
                p.copy_((0.3 if gemma else 1) * torch.randn(p.shape, generator=generator))
            else:
                scale = 2.5 if name.startswith("lm_head") else 1.2
                p.copy_(scale / math.sqrt(p.shape[1]) * torch.randn(p.shape, generator=generator))


def token_logprobs(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double()
    logprobs = torch.log_softmax(logits, dim=-1)
    return [logprobs[i, ids[i + 1]].item() for i in range(len(ids) - 1)]


def greedy(model, prompt):
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=30, min_new_tokens=30, do_sample=False,
                             eos_token_id=None, pad_token_id=0)
    return out[0, len(prompt):].tolist()


def llama_cpp_run(path, sequences, prompts):
    """llama.cpp's log-probs of `sequences` and greedy tokens after `prompts` (float32 KV cache)."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=128, logits_all=True, verbose=False, type_k=0, type_v=0, n_threads=2)
    logprobs = []
    for ids in sequences:
        llm.reset()
        llm.eval(ids)
        scores = np.array(llm.scores[:len(ids)], dtype=np.float64)
        scores = scores - np.log(np.exp(scores - scores.max(-1, keepdims=True)).sum(-1, keepdims=True)) - scores.max(-1, keepdims=True)
        logprobs.append([scores[i, ids[i + 1]] for i in range(len(ids) - 1)])
    tokens = []
    for prompt in prompts:
        llm.reset()
        llm.eval(prompt)
        new = []
        for _ in range(30):
            token = int(np.argmax(llm.scores[llm.n_tokens - 1]))
            new.append(token)
            llm.eval([token])
        tokens.append(new)
    return logprobs, tokens


def make(name, config, outtype, loads_gguf, converter, workdir):
    from transformers import AutoModelForCausalLM
    hf_dir = os.path.join(workdir, name)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config).float().eval()
    randomize(model, torch.Generator().manual_seed(zlib.crc32(name.encode())))
    model.save_pretrained(hf_dir)
    for file in ("tokenizer.json",):
        shutil.copy(os.path.join(TOKENIZER, file), hf_dir)
    with open(os.path.join(hf_dir, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}, f)
    path = os.path.join(OUT, name + ".gguf")
    subprocess.run([sys.executable, "-c", CONVERT, converter, hf_dir, "--outfile", path, "--outtype", outtype],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    generator = torch.Generator().manual_seed(5)
    sequences = [torch.randint(0, VOCAB, (n,), generator=generator).tolist() for n in (9, 17, 13)]
    prompts = [torch.randint(0, VOCAB, (n,), generator=generator).tolist() for n in (5, 3)]
    fields = ("model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
              "head_dim", "tie_word_embeddings", "sliding_window", "layer_types", "attn_logit_softcapping",
              "final_logit_softcapping", "query_pre_attn_scalar", "no_rope_layers", "rope_parameters")
    expected = {"config": {k: getattr(config, k, None) for k in fields}}
    if loads_gguf:
        gguf_dir = os.path.join(workdir, name + "-gguf")
        os.makedirs(gguf_dir)
        shutil.copy(path, gguf_dir)
        loaded = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=name + ".gguf", dtype=torch.float32).eval()
        drift = max(abs(a - b) for s in sequences for a, b in zip(token_logprobs(loaded, s), token_logprobs(model, s)))
        differences = {k: [getattr(config, k, None), getattr(loaded.config, k, None)] for k in fields
                       if getattr(config, k, None) != getattr(loaded.config, k, None)}
        print(f"{name}: transformers on the GGUF vs on the HF model: log-probs max diff {drift:.2e}; config differs in {differences}")
        expected["transformers_gguf"] = {"logprobs_max_diff": drift, "config_differences": differences}
        # The file's values (dequantized, Gemma's norms shifted back) in the Hugging Face model.
        model.load_state_dict(loaded.state_dict())
    expected["reference"] = "transformers-hf" + (" with the weights transformers reads from the file" if loads_gguf else "")
    expected["score"] = [{"ids": s, "logprobs": token_logprobs(model, s)} for s in sequences]
    expected["greedy"] = {"prompts": prompts, "new_ids": [greedy(model, p) for p in prompts]}
    try:
        cpp_logprobs, cpp_greedy = llama_cpp_run(path, sequences, prompts)
    except ValueError as error:
        # llama.cpp 0.3.36 fails on phi3 with this tiny vocabulary ("error loading model vocabulary: unordered_map::at").
        print(f"{name}: llama.cpp does not load it: {error}")
        expected["llama_cpp"] = {"error": str(error).replace(path, name + ".gguf")}
        return expected
    cpp_drift = max(abs(a - b) for got, entry in zip(cpp_logprobs, expected["score"]) for a, b in zip(got, entry["logprobs"]))
    same = sum(a == b for got, want in zip(cpp_greedy, expected["greedy"]["new_ids"]) for a, b in zip(got, want))
    print(f"{name}: llama.cpp vs transformers on the HF model: log-probs max diff {cpp_drift:.2e}, greedy {same}/60 tokens identical")
    expected["llama_cpp"] = {"logprobs_max_diff": cpp_drift, "greedy_identical": same, "greedy": cpp_greedy}
    return expected


def sentencepiece_vocabulary(architecture):
    """A SentencePiece-style (`llama`) vocabulary as convert_hf_to_gguf.py's `_set_vocab_sentencepiece`
    writes one (tokens, scores, token types 1 normal / 2 unknown / 3 control / 4 user-defined / 6 byte),
    from the SentencePiece BPE fixture tokenizer `legacy` (byte fallback, 256 `<0xNN>` tokens, ranked
    merges). Scores fall with the position, as in Gemma's files, so that llama.cpp (which ranks by
    score) and transformers (which ranks Gemma's by position) rank alike. Gemma's: `<pad>`, `<eos>`,
    `<bos>`, `<unk>`, `<mask>` first, turn markers as control tokens, and tokens of 2 and 3 spaces
    stored as real spaces and user-defined (as in Gemma files; transformers respells them `▁▁` and
    merges into them, llama.cpp matches them whole in the raw text); Phi-3's: the fixture's
    `<unk>`, `<s>`, `</s>` and its added tokens."""
    with open(os.path.join(ROOT, "Tests/FledgeLMTests/Fixtures/tokenizers/legacy/tokenizer.json")) as f:
        source = json.load(f)
    vocab = sorted(source["model"]["vocab"].items(), key=lambda item: item[1])
    added = {a["content"]: a for a in source["added_tokens"]}
    if architecture == "phi3":
        tokens = [token for token, _ in vocab] + [a["content"] for a in source["added_tokens"] if a["id"] >= len(vocab)]
        types = [2 if t == "<unk>" else 3 if t in added and added[t]["special"] else 4 if t in added else 6 if t.startswith("<0x") else 1
                 for t in tokens]
        special = {"bos": "<s>", "eos": "</s>", "unk": "<unk>"}
    else:
        head = [("<pad>", 3), ("<eos>", 3), ("<bos>", 3), ("<unk>", 2), ("<mask>", 4), ("<start_of_turn>", 3), ("<end_of_turn>", 3)]
        body = [(t, 6 if t.startswith("<0x") else 1) for t, _ in vocab if t not in ("<unk>", "<s>", "</s>")]
        tokens = [t for t, _ in head + body] + ["  ", "   "]
        types = [k for _, k in head + body] + [4, 4]
        special = {"bos": "<bos>", "eos": "<eos>", "unk": "<unk>", "pad": "<pad>"}
    scores = [-float(i) for i in range(len(tokens))]
    return tokens, scores, types, special


def write_sentencepiece_tokenizer(architecture, workdir):
    """A tokenizer-only GGUF of `architecture` with a SentencePiece-style vocabulary, and the ids
    transformers' GGUF tokenizer gives for a varied corpus (llama.cpp's are compared and printed)."""
    import gguf
    from transformers import AutoTokenizer
    tokens, scores, types, special = sentencepiece_vocabulary(architecture)
    name = f"{architecture}_tokenizer"
    path = os.path.join(OUT, name + ".gguf")
    writer = gguf.GGUFWriter(path, arch=architecture)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(tokens.index(special["bos"]))
    writer.add_eos_token_id(tokens.index(special["eos"]))
    writer.add_unk_token_id(tokens.index(special["unk"]))
    if "pad" in special:
        writer.add_pad_token_id(tokens.index(special["pad"]))
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    if architecture.startswith("gemma"):
        writer.add_add_space_prefix(False)  # Gemma2Model.set_vocab / Gemma3Model.set_vocab
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    directory = os.path.join(workdir, name)
    os.makedirs(directory)
    shutil.copy(path, directory)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name + ".gguf")
    turn = "<start_of_turn>user\nhi<end_of_turn>" if architecture.startswith("gemma") else "<|user|>\nhi<|end|>"
    corpus = [
        "Hello world, fledge learns to fly!",
        "def add(a, b):\n    return a + b  # sum\n",
        "\u00dcn\u00efc\u00f6d\u00e9: na\u00efve caf\u00e9, \u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8, emoji \U0001F426 and \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac.",
        "Numbers 3.14159, 1234567890 and -42e10; dates 2024-12-07.",
        "  leading spaces,\ttabs\nand\r\nnewlines   ",
        "a  b   c    d     e",
        " one leading space",
        f"{turn} {special['eos']} {special['bos']}<unk> special tokens",
        "It's, we'll, they've \u2014 I'M SHOUTING don't \x07",
    ]
    expected = {"corpus": corpus,
                "ids": [tokenizer(t, add_special_tokens=False)["input_ids"] for t in corpus],
                "with_special": [tokenizer(t)["input_ids"] for t in corpus],
                "decoded": [tokenizer.decode(tokenizer(t)["input_ids"]) for t in corpus]}
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    agree = sum(llm.tokenize(t.encode(), add_bos=False, special=True) == ids for t, ids in zip(corpus, expected["ids"]))
    print(f"{name}: llama.cpp's ids equal transformers' for {agree}/{len(corpus)} texts")
    expected["llama_cpp_agrees"] = agree
    return expected


def main():
    converter = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    with tempfile.TemporaryDirectory() as workdir:
        for architecture in ("gemma3", "phi3"):
            expected[f"{architecture}_tokenizer"] = write_sentencepiece_tokenizer(architecture, workdir)
    with open(os.path.join(OUT, "tokenizers.expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
    for architecture in ("gemma3", "phi3"):  # seeds of the `gguf` fuzz target
        shutil.copy(os.path.join(OUT, f"{architecture}_tokenizer.gguf"),
                    os.path.join(ROOT, f"Fuzz/Corpus/gguf/{architecture}-sentencepiece-tokenizer.gguf"))
    if "--tokenizers-only" in sys.argv:
        return
    expected = {}
    with tempfile.TemporaryDirectory() as workdir:
        for name, config, outtype, loads_gguf in families():
            expected[name] = make(name, config, outtype, loads_gguf, converter, workdir)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    for file in sorted(os.listdir(OUT)):
        print(f"{file}: {os.path.getsize(os.path.join(OUT, file)) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
