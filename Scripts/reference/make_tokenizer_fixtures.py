"""Train small tokenizers of each kind with Hugging Face `tokenizers` and record the ids and
decodes it produces for a varied corpus, as fixtures for `Tests/FledgeLMTests`.

Run: python Scripts/reference/make_tokenizer_fixtures.py [OUT_DIR]
(default OUT_DIR: Tests/FledgeLMTests/Fixtures/tokenizers). Needs `pip install tokenizers transformers`.
Everything is generated locally from a fixed seed; nothing is downloaded.
"""
import json
import os
import random
import sys

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
LLAMA3_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
# DeepSeek-V3-style splits and GPT-4o's pattern: other regexes, which Fledge runs through its regex fallback.
DIGITS_PATTERN = r"""\p{N}{1,3}"""
CJK_PATTERN = r"""[一-龥\u3040-ゟ゠-ヿ]+"""
DEEPSEEK_PATTERN = r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
O200K_PATTERN = r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
QWEN2_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

WORDS = """the quick brown fox jumps over lazy dog tokenizer model training reward policy gradient
advantage group relative optimization language learning rate batch value function sample text
café naïve résumé façade coöperate jalapeño Zürich São Paulo Ångström déjà vu über straße
Москва привет мир данные Αθήνα λόγος こんにちは 世界 東京 学習 データ 한국어 안녕하세요 中文 分词器
مرحبا بالعالم नमस्ते दुनिया שלום עולם ภาษาไทย Tiếng Việt""".split()
EMOJI = ["😀", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "❤️", "🤖", "🚀", "✨", "🧪", "👩🏾‍💻", "🏳️‍🌈"]
PUNCT = list(".,;:!?-—–()[]{}<>/\\|@#$%^&*_+=~`\"'…«»“”‘’¿¡§°")
CONTRACTIONS = ["it's", "don't", "we're", "they've", "I'm", "you'll", "he'd", "IT'S", "DON'T", "We'Re",
                "I'M", "YOU'LL", "she'D", "rock'n'roll", "'s", "'twas", "o'clock"]
COMBINING = ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "Z\u0351\u0353\u036b", "i\u0307\u0301"]
WHITESPACE = [" ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", " \n", "\r\n", " \t ", "\u00a0", "\u3000", "\u2009", "    \n  "]
CODE = ["def f(x):\n    return x**2", "for (int i = 0; i < n; ++i) {", "x = [1, 2, 3]  # list",
        "if a != b and c >= d:", "print(\"hello\\n\")", "SELECT * FROM t WHERE id=42;",
        "https://example.com/path?q=1&r=2", "user@example.org", "C:\\Users\\name", "$HOME/.config"]


def number(rng):
    return rng.choice([str(rng.randint(0, 9)), str(rng.randint(10, 99999)), str(rng.randint(10**6, 10**12)),
                       f"{rng.uniform(-1000, 1000):.3f}", f"{rng.randint(1, 31)}/{rng.randint(1, 12)}/2024",
                       "1,234,567", "3.14159", "٣٤٥", "१२३", "①②", "1e-5", "0x1F"])


def piece(rng, specials):
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(WORDS)
    if kind < 0.45:
        return number(rng)
    if kind < 0.55:
        return "".join(rng.choice(PUNCT) for _ in range(rng.randint(1, 3)))
    if kind < 0.63:
        return rng.choice(CONTRACTIONS)
    if kind < 0.70:
        return rng.choice(EMOJI)
    if kind < 0.75:
        return rng.choice(COMBINING)
    if kind < 0.80:
        return rng.choice(CODE)
    if kind < 0.86 and specials:
        return rng.choice(specials)
    return rng.choice(WORDS).capitalize()


def line(rng, specials):
    parts = []
    for _ in range(rng.randint(1, 14)):
        parts.append(piece(rng, specials))
        parts.append(rng.choice(WHITESPACE) if rng.random() < 0.25 else " ")
    text = "".join(parts)
    if rng.random() < 0.2:
        text = rng.choice(WHITESPACE) + text
    if rng.random() < 0.6:
        text = text.rstrip(" ")
    return text


EDGE_LINES = [
    "", " ", "  ", "\n", "\t", " \n ", "a", "A", "é", "😀", "1234567", "'s", "'S", "  hello", "hello  ",
    "hello\n\nworld", "a\tb\t\tc", "trailing spaces   ", "   leading", "mixed \t\n whitespace \r\n end",
    "ǅungla ǈ", "ﬁne ﬂow", "Ⅻ ½ ²", "ｆｕｌｌｗｉｄｔｈ", "x\u200by", "\u0301start", "e\u0301\u0301\u0301",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1" * 40, "!!!???...", "\U0001F9D1\u200D\U0001F680",
]


# Code point ranges for random lines: scripts, combining marks, astral planes, tag characters,
# compatibility forms, variation selectors, unusual whitespace.
RANDOM_RANGES = [(0x20, 0x7E)] * 6 + [(0x09, 0x0D), (0xA0, 0x17F), (0x300, 0x36F), (0x370, 0x52F), (0x590, 0x6FF),
                 (0x900, 0x97F), (0x1100, 0x11FF), (0x2000, 0x206F), (0x2150, 0x218F), (0x3000, 0x30FF), (0x4E00, 0x4E80),
                 (0xAC00, 0xAC50), (0xFB00, 0xFB4F), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0x1F300, 0x1F6FF),
                 (0x1D400, 0x1D4FF), (0xE0000, 0xE007F), (0x10000, 0x1007F)]


def random_line(rng, specials):
    parts = []
    for _ in range(rng.randint(0, 40)):
        if rng.random() < 0.15:
            parts.append(rng.choice(["'s", "'LL", " ", "  ", "\n", "\r\n", "\t", "123456", "▁"] + specials))
        else:
            low, high = rng.choice(RANDOM_RANGES)
            code = rng.randint(low, high)
            if not 0xD800 <= code <= 0xDFFF:
                parts.append(chr(code))
    return "".join(parts)


def corpus(seed, count, specials, random_count=100):
    rng = random.Random(seed)
    lines = list(EDGE_LINES)
    for s in specials:
        lines += [s, f"x{s}y", f" {s} ", f"{s}{s}", f"hello {s}\nworld", f"{s}  text"]
    while len(lines) < count:
        lines.append(line(rng, specials))
    return lines + [random_line(rng, specials) for _ in range(random_count)]


def training_text(seed, count):
    rng = random.Random(seed)
    return [line(rng, []) for _ in range(count)]


def byte_level(kind, vocab_size, texts):
    tok = Tokenizer(models.BPE(ignore_merges=(kind == "llama3")))
    if kind == "gpt2":
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    elif kind == "regex":
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(DIGITS_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.Split(Regex(CJK_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.Split(Regex(DEEPSEEK_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.Split(Regex(O200K_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.Split("-", behavior="merged_with_previous", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=False),
        ])
    else:
        pattern = LLAMA3_PATTERN if kind == "llama3" else QWEN2_PATTERN
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ])
    if kind == "qwen2":
        tok.normalizer = normalizers.NFC()
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(texts, trainer)
    return tok


def sentencepiece(kind, vocab_size, texts):
    """`legacy`: Llama-2 style (Prepend/Replace normalizers, byte fallback, Replace/ByteFallback/Fuse/Strip decoders);
    `metaspace`: Metaspace pre-tokenizer with NFKC and an unk token (no byte fallback)."""
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=150,
                                  show_progress=False)
    if kind == "legacy":
        tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.pre_tokenizer = pre_tokenizers.Split("▁", behavior="merged_with_next")
        tok.train_from_iterator(texts, trainer)
        # SentencePiece keeps its <0xNN> byte tokens in the model's vocabulary, after the special tokens.
        data = json.loads(tok.to_str())
        vocab = data["model"]["vocab"]
        ordered = sorted(vocab, key=vocab.get)
        new_order = ordered[:3] + [f"<0x{b:02X}>" for b in range(256)] + [t for t in ordered[3:] if t not in
                                                                         {f"<0x{b:02X}>" for b in range(256)}]
        data["model"]["vocab"] = {t: i for i, t in enumerate(new_order)}
        remap = {t["content"]: data["model"]["vocab"][t["content"]] for t in data["added_tokens"]}
        for t in data["added_tokens"]:
            t["id"] = remap[t["content"]]
        data["pre_tokenizer"] = None
        tok = Tokenizer.from_str(json.dumps(data))
        tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                         decoders.Strip(" ", 1, 0)])
        tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                           special_tokens=[("<s>", 1)])
    else:
        tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True))
        tok.normalizer = normalizers.NFKC()
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
        tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first", split=True)
        tok.train_from_iterator(texts, trainer)
        tok.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> $B </s>",
                                                           special_tokens=[("<s>", 1), ("</s>", 2)])
    return tok


def build(kind):
    texts = training_text(7, 4000)
    if kind in ("gpt2", "qwen2", "llama3", "regex"):
        tok = byte_level(kind, 1200, texts)
    else:
        tok = sentencepiece(kind, 900, texts)
    if kind == "gpt2":
        tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False)])
        tok.add_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, single_word=False, normalized=False),
                        AddedToken("[WORD]", single_word=True, normalized=False),
                        AddedToken("<pad>", rstrip=True, normalized=False),
                        AddedToken("hello world", normalized=True)])
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        config = {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": None}
    elif kind == "qwen2":
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
        tok.add_tokens([AddedToken("<tool_call>", normalized=False), AddedToken("</tool_call>", normalized=False)])
        tok.post_processor = processors.ByteLevel(trim_offsets=False)
        config = {"bos_token": None, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}
    elif kind == "llama3":
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t in ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>",
                                          "<|end_header_id|>", "<|eot_id|>"]])
        bos = tok.token_to_id("<|begin_of_text|>")
        tok.post_processor = processors.Sequence([
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B",
                                          special_tokens=[("<|begin_of_text|>", bos)])])
        config = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
    elif kind == "regex":
        tok.add_special_tokens([AddedToken("<｜begin▁of▁sentence｜>", special=True, normalized=False)])
        tok.post_processor = processors.TemplateProcessing(single="<｜begin▁of▁sentence｜> $A",
                                                           special_tokens=[("<｜begin▁of▁sentence｜>", 1200)])
        config = {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜begin▁of▁sentence｜>"}
    elif kind == "legacy":
        tok.add_special_tokens([AddedToken("<|user|>", special=True, normalized=False),
                                AddedToken("<|end|>", special=True, rstrip=True, normalized=False)])
        tok.add_tokens([AddedToken("new token", normalized=True), AddedToken("<raw tag>", normalized=False)])
        config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
                  "add_eos_token": False}
    else:
        tok.add_special_tokens([AddedToken("<start_of_turn>", special=True, normalized=False),
                                AddedToken("<end_of_turn>", special=True, normalized=False)])
        tok.add_tokens([AddedToken("ﬁne tune", normalized=True), AddedToken("Ⅻ", normalized=True, single_word=True)])
        config = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    config["tokenizer_class"] = "PreTrainedTokenizerFast"
    return tok, config


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Tests/FledgeLMTests/Fixtures/tokenizers"
    from transformers import AutoTokenizer
    for kind in ["gpt2", "qwen2", "llama3", "regex", "legacy", "metaspace"]:
        tok, config = build(kind)
        directory = os.path.join(out, kind)
        os.makedirs(directory, exist_ok=True)
        tok.save(os.path.join(directory, "tokenizer.json"), pretty=False)
        with open(os.path.join(directory, "tokenizer_config.json"), "w") as f:
            json.dump(config, f, indent=2, ensure_ascii=False)
        hf = AutoTokenizer.from_pretrained(directory)
        specials = [t.content for t in tok.get_added_tokens_decoder().values()]
        cases = []
        for text in corpus(11, 320, specials):
            ids = tok.encode(text, add_special_tokens=False).ids
            with_special = hf(text, add_special_tokens=True)["input_ids"]
            assert hf(text, add_special_tokens=False)["input_ids"] == ids, (kind, text)
            cases.append({"text": text, "ids": ids, "ids_with_special_tokens": with_special,
                          "decoded": tok.decode(ids, skip_special_tokens=False),
                          "decoded_skipping_special": tok.decode(ids, skip_special_tokens=True)})
        with open(os.path.join(directory, "expected.jsonl"), "w") as f:
            for case in cases:
                f.write(json.dumps(case, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(kind, tok.get_vocab_size(), len(cases))


if __name__ == "__main__":
    main()
