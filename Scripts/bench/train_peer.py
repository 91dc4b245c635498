"""The peer for `lathe bench train`: PyTorch + PEFT LoRA training on the same GGUF, same configuration.

fp32, LoRA r/alpha on the seven projections, AdamW, micro-batch B x T of random tokens, every token a target.
Prints one JSON line: {"tokens_per_s", "peak_rss_bytes", "loss_first", "torch", "peft"}.
Usage: $PYTHON Scripts/bench/train_peer.py MODEL.gguf --threads 2 --batch 4 --length 512 --steps 3 [--recompute]
The model is loaded through gguf_cache.py (converted once, then read from Checkpoints/.peer-cache/).
"""
import argparse
import json
import os
import resource
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--alpha", type=float, default=32)
    parser.add_argument("--dropout", type=float, default=0.0, help="lora_dropout")
    parser.add_argument("--recompute", action="store_true",
                        help="gradient checkpointing per decoder layer (non-reentrant), as `train.recompute: true`")
    args = parser.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    import peft
    from peft import LoraConfig, get_peft_model
    from gguf_cache import load_causal_lm

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    base = load_causal_lm(args.gguf, torch)
    config = LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=args.dropout, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    if args.recompute:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = get_peft_model(base, config)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(0, base.config.vocab_size, (args.batch, args.length), generator=torch.Generator().manual_seed(0))

    def step():
        optimizer.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        return loss.item()

    first = step()  # warm-up, not timed
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "tokens_per_s": args.batch * args.length * args.steps / seconds,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "loss_first": first,
        "torch": torch.__version__,
        "peft": peft.__version__,
    }))


if __name__ == "__main__":
    sys.exit(main())
