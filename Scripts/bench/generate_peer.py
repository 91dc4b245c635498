"""The peer for `lathe bench generate`: llama.cpp (llama-cpp-python) decoding the same GGUF on the same threads.

Greedy single-stream decode of --tokens tokens after the same prompt token ids Lathe decodes from (--prompt-ids,
comma-separated; generation continues past end-of-sequence, as the Lathe side does). A short warm-up first; then the
time from the first generated token to the last (prefill excluded, as on the Lathe side); the best of --repeats runs.
Prints one JSON line: {"decode_tokens_per_s": ..., "first_tokens": [...], "llama_cpp": version, "threads": n}, or
{"error": ...} when llama_cpp is missing.
Usage: $PYTHON Scripts/bench/generate_peer.py MODEL.gguf --prompt-ids 1,504,3019 --tokens 128 --threads 2
"""
import argparse
import json
import time


def decode(llm, prompt, tokens):
    """(seconds from the first generated token to the `tokens`-th, the generated ids), greedy, past end-of-sequence."""
    generated, first = [], None
    for token in llm.generate(prompt, top_k=1, top_p=1.0, min_p=0.0, temp=0.0, repeat_penalty=1.0, reset=True):
        generated.append(token)
        if first is None:
            first = time.perf_counter()
        if len(generated) == tokens:
            break
    return time.perf_counter() - first, generated


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("gguf")
    parser.add_argument("--prompt-ids", required=True, help="comma-separated prompt token ids")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    try:
        import llama_cpp
    except ImportError:
        print(json.dumps({"error": "llama_cpp is not installed in this interpreter (pip install llama-cpp-python; "
                                   "it builds llama.cpp from source, about 10 minutes on 2 cores)"}))
        return
    prompt = [int(t) for t in args.prompt_ids.split(",") if t]
    llm = llama_cpp.Llama(model_path=args.gguf, n_ctx=len(prompt) + args.tokens + 16, n_threads=args.threads,
                          n_threads_batch=args.threads, n_batch=max(64, len(prompt)), seed=0, verbose=False)
    decode(llm, prompt, 8)   # warm-up: first-call allocations
    runs = [decode(llm, prompt, args.tokens) for _ in range(args.repeats)]
    best, generated = min(runs, key=lambda run: run[0])
    print(json.dumps({"decode_tokens_per_s": (args.tokens - 1) / best, "first_tokens": generated[:16],
                      "llama_cpp": llama_cpp.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
