"""The peer for `lathe bench serve`: llama.cpp (llama-cpp-python) decoding the same GGUF on the same threads.

Greedy single-stream decode of --tokens tokens after the same short prompt Lathe decodes from (generation continues
past end-of-sequence, as the Lathe side does with ignore_eos). A short warm-up run first; then the time from the
first generated token to the last, so prefill is excluded as on the Lathe side; the best of --repeats runs.
Prints one JSON line: {"decode_tokens_per_s": ..., "llama_cpp": version, "threads": n}, or {"error": ...}.
Usage: $PYTHON Scripts/bench/serve_peer.py MODEL.gguf --tokens 128 --threads 2
"""
import argparse
import json

from generate_peer import decode


def decode_seconds(llm, prompt, tokens):
    """Seconds from the first generated token to the `tokens`-th (greedy, past end-of-sequence)."""
    return decode(llm, prompt, tokens)[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    try:
        import llama_cpp
    except ImportError:
        print(json.dumps({"error": "llama_cpp is not installed (pip install llama-cpp-python)"}))
        return
    llm = llama_cpp.Llama(model_path=args.gguf, n_ctx=args.tokens + 64, n_threads=args.threads, n_threads_batch=args.threads,
                          n_batch=64, seed=0, verbose=False)
    prompt = llm.tokenize(b"The history of the lighthouse")
    decode_seconds(llm, prompt, 8)   # warm-up: first-call allocations
    best = min(decode_seconds(llm, prompt, args.tokens) for _ in range(args.repeats))
    print(json.dumps({"decode_tokens_per_s": (args.tokens - 1) / best, "llama_cpp": llama_cpp.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
