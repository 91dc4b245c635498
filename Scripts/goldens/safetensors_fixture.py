#!/usr/bin/env python3
"""A small safetensors file written by the reference `safetensors` package, for LatheFormats' reader test.

Writes Tests/LatheFormatsTests/Fixtures/safetensors/ (or the directory given as the only argument):
  python.safetensors   tensors f32 (2,3), f16 (4,), bf16 (3,2), i64 (2,) and __metadata__ {"format": "pt", "lathe": "golden"}
  <name>.f32           each float tensor's values as PyTorch upcasts them to fp32 (little-endian)
Run: $PYTHON Scripts/goldens/safetensors_fixture.py
"""
import os
import sys

import torch
from safetensors.torch import save_file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests/LatheFormatsTests/Fixtures/safetensors")


def main():
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    tensors = {
        "model.layers.0.self_attn.q_proj.weight": torch.randn(2, 3, generator=g),
        "model.norm.weight": torch.randn(4, generator=g).to(torch.float16),
        "lm_head.weight": torch.randn(3, 2, generator=g).to(torch.bfloat16),
        "step": torch.tensor([7, -1], dtype=torch.int64),
    }
    save_file(tensors, os.path.join(OUT, "python.safetensors"), metadata={"format": "pt", "lathe": "golden"})
    for name, t in tensors.items():
        if t.dtype.is_floating_point:
            with open(os.path.join(OUT, name + ".f32"), "wb") as f:
                f.write(t.float().contiguous().numpy().astype("<f4").tobytes())


if __name__ == "__main__":
    main()
