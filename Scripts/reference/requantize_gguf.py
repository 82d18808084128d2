"""Requantizes the decoder linear weights (blk.*, 2-D) of a GGUF file to TYPE with gguf-py (from
their dequantized values); metadata and every other tensor are copied as they are. Made the Q8_0 and
Q4_0 SmolLM2-135M-Instruct files whose memory docs/gguf.md reports:

    /tmp/refvenv/bin/python Scripts/reference/requantize_gguf.py SmolLM2-135M-Instruct.Q4_1.gguf OUT.gguf Q8_0
"""
import sys
import numpy as np
import gguf
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType as T, quants

src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
target = T[name]
reader = GGUFReader(src)
arch = reader.fields["general.architecture"].contents()
writer = GGUFWriter(dst, arch=arch)
for field in reader.fields.values():
    if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
        continue
    vtype = field.types[0]
    sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
    writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
for t in reader.tensors:
    shape = tuple(int(d) for d in reversed(t.shape))
    if t.name.startswith("blk.") and len(t.shape) == 2 and t.name.endswith(".weight"):
        values = quants.dequantize(t.data, t.tensor_type).reshape(shape)
        writer.add_tensor(t.name, quants.quantize(np.ascontiguousarray(values, dtype=np.float32), target), raw_dtype=target)
    else:
        writer.add_tensor(t.name, t.data, raw_dtype=t.tensor_type)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
