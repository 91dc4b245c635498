#!/usr/bin/env python3
"""Golden files for LatheFormats' ggml dequantisation, fp16/bf16 rounding, Q8_0 quantisation and GGUF reading.

Uses gguf-py (`pip install gguf`), whose gguf.quants mirrors ggml-quants.c bit for bit.
Writes to Tests/LatheFormatsTests/Fixtures/dequant/ (or the directory given as the only argument):
  <type>.bin       raw blocks as stored in a GGUF file
  <type>.f32       the fp32 values ggml's dequantize_row_<type> gives (little-endian)
  q8_0.input.f32   the fp32 values that were quantised into q8_0.bin (ggml quantize_row_q8_0_ref)
  round.input.f32, round.f16, round.bf16   fp32 -> fp16 / bf16 round-to-nearest-even
  tiny.gguf        a small GGUF v3 written by gguf-py's GGUFWriter (every metadata type, a few tensors)
Run: $PYTHON Scripts/goldens/dequant.py
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import quantize, dequantize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests/LatheFormatsTests/Fixtures/dequant")
rng = np.random.default_rng(20260429)


def save(name, array):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(np.ascontiguousarray(array).tobytes())


def legacy(qtype, name, blocks=16):
    """Quantise random data with gguf-py, then dequantise it."""
    x = (rng.standard_normal(blocks * 32) * rng.uniform(0.01, 2.0)).astype(np.float32)
    x[:32] = np.linspace(-1.0, 2.0, 32, dtype=np.float32)   # one asymmetric block
    x[32:64] = np.arange(32, dtype=np.float32) - 15.5       # halves: ties for roundf once d = 127/127
    x[63] = 127.0
    x[64:96] = 0.0                                          # an all-zero block (d = 0)
    q = quantize(x.reshape(1, -1), qtype)
    save(name + ".bin", q)
    save(name + ".f32", dequantize(q, qtype).astype("<f4"))
    return x


# (d offset, dmin offset or None, block bytes) of each k-quant, from ggml-common.h
K_TYPES = {
    T.Q2_K: ("q2_k", 80, 82, 84),
    T.Q3_K: ("q3_k", 108, None, 110),
    T.Q4_K: ("q4_k", 0, 2, 144),
    T.Q5_K: ("q5_k", 0, 2, 176),
    T.Q6_K: ("q6_k", 208, None, 210),
}


def kquant(qtype, blocks=4):
    """gguf-py has no k-quant quantiser: random bytes with sane fp16 scales, dequantised by gguf-py."""
    name, d_at, dmin_at, size = K_TYPES[qtype]
    raw = rng.integers(0, 256, size=(blocks, size), dtype=np.uint8)
    for b in range(blocks):
        raw[b, d_at:d_at + 2] = np.frombuffer(np.float16(rng.uniform(0.001, 0.1)).tobytes(), np.uint8)
        if dmin_at is not None:
            raw[b, dmin_at:dmin_at + 2] = np.frombuffer(np.float16(rng.uniform(0.001, 0.1)).tobytes(), np.uint8)
    save(name + ".bin", raw)
    save(name + ".f32", dequantize(raw.reshape(1, -1), qtype).astype("<f4"))


def specials():
    return np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 65520.0, 1e6, -1e6, np.inf, -np.inf, 5.96e-8, 2.98e-8, 2.99e-8,
                     6.1e-5, 6.0e-5, 1e-40, 3.14159265, 1 / 3, 0.1, 1.00048828125, 1.0009765625 + 0.00048828125],
                    dtype=np.float32)


def halves():
    x = np.concatenate([specials(), (rng.standard_normal(200) * 10.0 ** rng.integers(-9, 6, 200)).astype(np.float32)])
    save("round.input.f32", x.astype("<f4"))
    save("round.f16", x.astype(np.float16))
    save("round.bf16", quantize(x.reshape(1, -1), T.BF16))
    f16 = rng.integers(0, 65536, 512, dtype=np.uint16)   # every kind of fp16: subnormals, inf, NaN payloads
    save("f16.bin", f16)
    save("f16.f32", f16.view(np.float16).astype("<f4"))
    bf16 = rng.integers(0, 65536, 512, dtype=np.uint16)
    save("bf16.bin", bf16)
    save("bf16.f32", dequantize(bf16.view(np.uint8).reshape(1, -1), T.BF16).astype("<f4"))


def q8_0_with_ties():
    x = legacy(T.Q8_0, "q8_0")
    save("q8_0.input.f32", x.astype("<f4"))


def tiny_gguf():
    path = os.path.join(OUT, "tiny.gguf")
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_uint64("test.u64", 2 ** 63 + 5)
    w.add_int64("test.i64", -(2 ** 62))
    w.add_float32("test.f32", 0.125)
    w.add_float64("test.f64", -1e300)
    w.add_bool("test.bool", True)
    w.add_string("test.string", "héllo ✓")
    w.add_array("test.strings", ["a", "", "ünï"])
    w.add_array("test.ints", [1, -2, 3])
    w.add_block_count(2)
    a = np.arange(64, dtype=np.float32).reshape(2, 32) / 8
    w.add_tensor("a.weight", a)
    w.add_tensor("b.f16", np.linspace(-1, 1, 12, dtype=np.float16).reshape(3, 4))
    q = quantize(a, T.Q8_0)
    w.add_tensor("c.q8_0", q, raw_shape=q.shape, raw_dtype=T.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    os.makedirs(OUT, exist_ok=True)
    legacy(T.Q4_0, "q4_0")
    legacy(T.Q4_1, "q4_1")
    legacy(T.Q5_0, "q5_0")
    legacy(T.Q5_1, "q5_1")
    q8_0_with_ties()
    for qtype in K_TYPES:
        kquant(qtype)
    halves()
    tiny_gguf()


if __name__ == "__main__":
    main()
