"""Side-by-side tokenizer benchmark: Hugging Face `tokenizers` (Rust) against `fledge bench tokenizer`.

Builds a Qwen2-style byte-level BPE tokenizer with a 150k vocabulary by training `tokenizers` locally
(on the Python standard library's sources plus generated multilingual text; nothing is downloaded
or committed), writes a held-out text file, then measures on the same machine, one thread each:
load time of tokenizer.json and encode throughput over every line of the text (cold: fresh tokenizer;
warm: best of the repeats). Rust runs `encode_batch` with one thread (RAYON_NUM_THREADS=1), and
`encode_batch_fast` (no offsets) for reference. Also checks that both give the same ids (token count and id sum).

Run: python Scripts/bench/tokenizer_bench.py --fledge .build/release/fledge [--work /tmp/fledge-tokenizer-bench]
"""
import argparse
import glob
import json
import os
import random
import subprocess
import sys
import sysconfig
import time

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
from make_tokenizer_fixtures import QWEN2_PATTERN, training_text  # noqa: E402


def source_lines():
    stdlib = sysconfig.get_paths()["stdlib"]
    files = sorted(f for f in glob.glob(os.path.join(stdlib, "**", "*.py"), recursive=True) if "site-packages" not in f)
    for index, path in enumerate(files):
        try:
            with open(path, encoding="utf-8") as f:
                yield index, f.read().split("\n")
        except (UnicodeDecodeError, OSError):
            continue


def build(work, vocab_size):
    directory = os.path.join(work, "tokenizer")
    text_path = os.path.join(work, "text.txt")
    if os.path.exists(os.path.join(directory, "tokenizer.json")) and os.path.exists(text_path):
        return directory, text_path
    os.makedirs(directory, exist_ok=True)
    train, held_out = [], []
    for index, lines in source_lines():
        (held_out if index % 10 == 0 else train).extend(lines)
    synthetic = training_text(1234, 120000)
    rng = random.Random(5)
    syllables = ["ka", "ri", "to", "men", "sho", "la", "vi", "qu", "ex", "or", "an", "ti", "zu", "pe", "dra", "ny", "ström", "çã", "ße"]
    words = [" ".join("".join(rng.choice(syllables) for _ in range(rng.randint(2, 6))) for _ in range(12)) for _ in range(150000)]
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(train + synthetic[:100000] + words, trainer)
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]])
    tok.save(os.path.join(directory, "tokenizer.json"))
    with open(text_path, "w") as f:
        f.write("\n".join(held_out + synthetic[100000:]))
    return directory, text_path


def rust(directory, text_path, repeats):
    path = os.path.join(directory, "tokenizer.json")
    loads = []
    for _ in range(repeats):
        start = time.perf_counter()
        tok = Tokenizer.from_file(path)
        loads.append(time.perf_counter() - start)
    with open(text_path, encoding="utf-8", newline="") as f:  # keep "\r" as Fledge reads it
        lines = f.read().split("\n")
    size = sum(len(line.encode()) for line in lines)
    times = []
    for repeat in range(repeats + 1):
        encoder = Tokenizer.from_file(path) if repeat == 0 else tok
        start = time.perf_counter()
        encodings = encoder.encode_batch(lines, add_special_tokens=False)
        times.append(time.perf_counter() - start)
    ids = [e.ids for e in encodings]
    fast = []
    for _ in range(repeats):  # the variant without offsets, for reference
        start = time.perf_counter()
        tok.encode_batch_fast(lines, add_special_tokens=False)
        fast.append(time.perf_counter() - start)
    return {"vocab_size": tok.get_vocab_size(), "load_seconds": min(loads), "lines": len(lines), "bytes": size,
            "tokens": sum(len(i) for i in ids), "id_sum": sum(sum(i) for i in ids),
            "encode_cold_seconds": times[0], "encode_warm_seconds": min(times[1:]),
            "encode_cold_mb_per_s": size / 1e6 / times[0], "encode_warm_mb_per_s": size / 1e6 / min(times[1:]),
            "encode_batch_fast_warm_mb_per_s": size / 1e6 / min(fast)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fledge", default=".build/release/fledge")
    parser.add_argument("--work", default="/tmp/fledge-tokenizer-bench")
    parser.add_argument("--vocab-size", type=int, default=150000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    directory, text_path = build(args.work, args.vocab_size)
    reference = rust(directory, text_path, args.repeats)
    output = subprocess.run([args.fledge, "bench", "tokenizer", "--model", directory, "--text", text_path,
                             "--repeats", str(args.repeats), "--json"], check=True, capture_output=True, text=True).stdout
    fledge = json.loads(output)
    print(f"tokenizer: {directory} ({reference['vocab_size']} ids); text: {text_path} "
          f"({reference['lines']} lines, {reference['bytes'] / 1e6:.1f} MB)")
    print(f"{'':24}{'tokenizers (Rust)':>20}{'fledge (Swift)':>18}{'fledge / Rust':>16}")
    print(f"{'load seconds':24}{reference['load_seconds']:>20.3f}{fledge['load_seconds']:>18.3f}"
          f"{fledge['load_seconds'] / reference['load_seconds']:>15.2f}x")
    for kind in ["cold", "warm"]:
        key = f"encode_{kind}_mb_per_s"
        print(f"{'encode ' + kind + ' MB/s':24}{reference[key]:>20.2f}{fledge[key]:>18.2f}{fledge[key] / reference[key]:>15.2f}x")
    key = "encode_warm_mb_per_s"
    print(f"{'encode warm MB/s (fast)':24}{reference['encode_batch_fast_warm_mb_per_s']:>20.2f}{fledge[key]:>18.2f}"
          f"{fledge[key] / reference['encode_batch_fast_warm_mb_per_s']:>15.2f}x")
    same = (reference["tokens"], reference["id_sum"]) == (fledge["tokens"], fledge["id_sum"])
    print(f"same ids: {same} (tokens {reference['tokens']} vs {fledge['tokens']}, id sum {reference['id_sum']} vs {fledge['id_sum']})")
    print(json.dumps({"rust": reference, "fledge": fledge}))
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
