#!/usr/bin/env python3
"""Random-weight GGUF files with the shapes of real models, for `lathe bench train` and `lathe plan` measurements
of speed and memory (the values are noise: only shapes, storage types and byte counts matter).

    /work/refvenv/bin/python Scripts/make_shaped_model.py llama-7b Checkpoints/base/llama-7b-shape.Q4_K.gguf
    /work/refvenv/bin/python Scripts/make_shaped_model.py qwen2.5-0.5b Checkpoints/base/qwen2.5-0.5b-shape.Q4_K.gguf
    /work/refvenv/bin/python Scripts/make_shaped_model.py qwen2.5-1.5b Checkpoints/base/qwen2.5-1.5b-shape.Q4_K.gguf

Matrices are Q4_K (random blocks whose fp16 scales keep weights near +-0.05); a matrix whose rows are not whole
256-value super-blocks falls back to Q5_0, as llama.cpp's quantiser does for Q4_K. Norms are F32. Needs the `gguf`
package (gguf-py). Writes tensor by tensor, so memory stays at one matrix. Outputs go to Checkpoints/ (git-ignored).
"""
import argparse

import numpy as np
from gguf import GGMLQuantizationType as Q, GGUFWriter

SHAPES = {
    # name: (arch, width, mlp, layers, heads, kv_heads, vocab, tied, rope_theta, context)
    "llama-7b": ("llama", 4096, 11008, 32, 32, 32, 32000, False, 10000.0, 4096),
    "llama-1.5b": ("llama", 2048, 5632, 24, 16, 4, 32000, True, 10000.0, 4096),
    "qwen2.5-0.5b": ("qwen2", 896, 4864, 24, 14, 2, 151936, True, 1000000.0, 32768),
    "qwen2.5-1.5b": ("qwen2", 1536, 8960, 28, 12, 2, 151936, True, 1000000.0, 32768),
}
# (block values, block bytes, [(fp16 scale offset, scale)]), as in the Swift test helper TinyQuantizedGGUF.
BLOCKS = {
    Q.Q4_K: (256, 144, [(0, 0.00005), (2, 0.0005)]),
    Q.Q5_0: (32, 22, [(0, 0.003)]),
}


def blocks(qtype, rows, columns, rng):
    size, nbytes, scales = BLOCKS[qtype]
    per_row = columns // size
    data = rng.integers(0, 256, size=(rows, per_row, nbytes), dtype=np.uint8)
    for offset, value in scales:
        half = (value * (0.5 + rng.random((rows, per_row)))).astype(np.float16).view(np.uint8).reshape(rows, per_row, 2)
        data[:, :, offset:offset + 2] = half
    return data.reshape(rows, per_row * nbytes)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shape", choices=sorted(SHAPES))
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    arch, c, f, layers, heads, kv_heads, vocab, tied, theta, context = SHAPES[args.shape]
    d = c // heads
    rng = np.random.default_rng(args.seed)
    writer = GGUFWriter(args.out, arch)
    writer.add_block_count(layers)
    writer.add_context_length(context)
    writer.add_embedding_length(c)
    writer.add_feed_forward_length(f)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_freq_base(theta)
    writer.add_vocab_size(vocab)

    tensors = []  # (name, rows, columns or None for a vector)

    def matrix(name, rows, columns):
        tensors.append((name, rows, columns))

    matrix("token_embd.weight", vocab, c)
    for layer in range(layers):
        p = f"blk.{layer}."
        tensors.append((p + "attn_norm.weight", c, None))
        matrix(p + "attn_q.weight", heads * d, c)
        matrix(p + "attn_k.weight", kv_heads * d, c)
        matrix(p + "attn_v.weight", kv_heads * d, c)
        if arch == "qwen2":
            for part, rows in (("q", heads * d), ("k", kv_heads * d), ("v", kv_heads * d)):
                tensors.append((p + f"attn_{part}.bias", rows, None))
        matrix(p + "attn_output.weight", c, heads * d)
        tensors.append((p + "ffn_norm.weight", c, None))
        matrix(p + "ffn_gate.weight", f, c)
        matrix(p + "ffn_up.weight", f, c)
        matrix(p + "ffn_down.weight", c, f)
    tensors.append(("output_norm.weight", c, None))
    if not tied:
        matrix("output.weight", vocab, c)

    def qtype(columns):
        return Q.Q4_K if columns % 256 == 0 else Q.Q5_0

    for name, rows, columns in tensors:
        if columns is None:
            writer.add_tensor_info(name, [rows], np.dtype(np.float32), rows * 4)
        else:
            kind = qtype(columns)
            size, nbytes, _ = BLOCKS[kind]
            writer.add_tensor_info(name, [rows, columns // size * nbytes], np.dtype(np.uint8),
                                   rows * columns // size * nbytes, raw_dtype=kind)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for name, rows, columns in tensors:
        if columns is None:
            data = (0.8 + 0.4 * rng.random(rows)).astype(np.float32)
            if name.endswith(".bias"):
                data = (0.02 * (rng.random(rows) - 0.5)).astype(np.float32)
        else:
            data = blocks(qtype(columns), rows, columns, rng)
        writer.write_tensor_data(data)
    writer.close()


if __name__ == "__main__":
    main()
