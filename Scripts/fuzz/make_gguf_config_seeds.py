"""Seeds of the `gguf-config` fuzz target: the metadata of the committed GGUF model fixtures, one file per family.

    /tmp/refvenv/bin/python Scripts/fuzz/make_gguf_config_seeds.py

Each seed keeps its fixture's key-value metadata and tensor names, which are what the mapping to a config.json
reads, and little else: the tokenizer's arrays (tokens, scores, token types, merges) and chat template are dropped
(`{arch}.vocab_size` takes the vocabulary's size where the fixture had none), and every tensor but Llama 3's
`rope_freqs` (whose values are read) becomes one float32, so that a seed is a few KB. Written to
Fuzz/Corpus/gguf-config/.
"""
import os

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

FIXTURES = "Tests/FledgeLMTests/Fixtures/gguf"
SOURCES = [
    "families/gemma2_f32.gguf", "families/gemma3_f32.gguf", "families/llama3rope_f32.gguf", "families/olmo2_f32.gguf",
    "families/phi3_f32.gguf", "families/smollm3_f32.gguf", "llama_f32.gguf", "qwen2_f16.gguf", "qwen3_bf16.gguf",
    "phi3_mixed.gguf",
]
DROPPED = {"tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type", "tokenizer.ggml.merges",
           "tokenizer.chat_template"}
KEPT_TENSORS = {"rope_freqs.weight"}


def field_value(field):
    kind = field.types[0]
    if kind == GGUFValueType.ARRAY:
        return [field.contents(i) for i in range(len(field.data))], kind, field.types[-1]
    return field.contents(), kind, None


def main():
    out_dir = "Fuzz/Corpus/gguf-config"
    os.makedirs(out_dir, exist_ok=True)
    for source in SOURCES:
        reader = GGUFReader(os.path.join(FIXTURES, source))
        architecture = reader.fields["general.architecture"].contents()
        writer = GGUFWriter(os.path.join(out_dir, os.path.basename(source)), architecture)
        for name, field in reader.fields.items():
            if name.startswith("GGUF.") or name == "general.architecture" or name in DROPPED:
                continue
            value, kind, element = field_value(field)
            writer.add_key_value(name, value, kind, sub_type=element)
        vocab_key = f"{architecture}.vocab_size"
        if vocab_key not in reader.fields and "tokenizer.ggml.tokens" in reader.fields:
            writer.add_uint32(vocab_key, len(reader.fields["tokenizer.ggml.tokens"].data))
        for tensor in reader.tensors:
            if tensor.name in KEPT_TENSORS:
                writer.add_tensor(tensor.name, np.array(tensor.data, dtype=np.float32))
            else:
                writer.add_tensor(tensor.name, np.zeros(1, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        print(f"{source}: {os.path.getsize(os.path.join(out_dir, os.path.basename(source)))} bytes")


if __name__ == "__main__":
    main()
