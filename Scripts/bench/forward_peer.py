"""The peer for `lathe bench forward`: transformers (PyTorch, CPU, fp32) on the same GGUF, same shapes.

Prints one JSON line: {"prefill_tokens_per_s": ..., "decode_tokens_per_s": ..., "load_s": ..., "torch": ..., "transformers": ...}.
Usage: $PYTHON Scripts/bench/forward_peer.py MODEL.gguf --threads 2 --prefill 512 --decode 64
"""
import argparse
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--prefill", type=int, default=512)
    parser.add_argument("--decode", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(args.threads)
    folder, name = os.path.split(os.path.abspath(args.gguf))
    start = time.perf_counter()
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    load_s = time.perf_counter() - start

    generator = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    prompt = torch.randint(0, vocab, (1, args.prefill), generator=generator)
    best_prefill = float("inf")
    best_decode = float("inf")
    with torch.no_grad():
        model(prompt[:, :16])  # warm-up
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = model(prompt, use_cache=True)
            best_prefill = min(best_prefill, time.perf_counter() - t0)
            past = out.past_key_values
            token = out.logits[:, -1:].argmax(-1)
            t0 = time.perf_counter()
            for _ in range(args.decode):
                out = model(token, past_key_values=past, use_cache=True)
                past = out.past_key_values
                token = out.logits[:, -1:].argmax(-1)
            best_decode = min(best_decode, time.perf_counter() - t0)
    print(json.dumps({
        "prefill_tokens_per_s": args.prefill / best_prefill,
        "decode_tokens_per_s": args.decode / best_decode,
        "load_s": load_s,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())
