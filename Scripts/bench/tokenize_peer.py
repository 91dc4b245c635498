#!/usr/bin/env python3
"""The peer for `lathe bench tokenize`: Hugging Face `tokenizers` encoding the same records, one at a time on one
thread (run with RAYON_NUM_THREADS=1), without special tokens, after one warm-up call.

Prints one JSON line: {"mbps": ..., "count": total ids, "sum": sum of ids, "tokenizers": version}, or
{"error": "..."} when `tokenizers` is not installed. Lathe compares count and sum to tell whether the ids match.
Usage: $PYTHON Scripts/bench/tokenize_peer.py TOKENIZER.json RECORDS.json  (a JSON array of strings)
"""
import argparse
import json
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tokenizer", help="tokenizer.json")
    parser.add_argument("records", help="a JSON array of the texts to encode")
    args = parser.parse_args()
    try:
        import tokenizers
        from tokenizers import Tokenizer
    except Exception as error:  # the peer is optional: say why it cannot run
        print(json.dumps({"error": f"cannot import tokenizers: {error}"}))
        return
    tok = Tokenizer.from_file(args.tokenizer)
    with open(args.records, encoding="utf-8") as f:
        records = json.load(f)
    total = sum(len(r.encode("utf-8")) for r in records)
    tok.encode(records[0], add_special_tokens=False)
    start = time.perf_counter()
    count = 0
    checksum = 0
    for r in records:
        ids = tok.encode(r, add_special_tokens=False).ids
        count += len(ids)
        checksum += sum(ids)
    seconds = time.perf_counter() - start
    print(json.dumps({"mbps": total / seconds / 1e6, "count": count, "sum": checksum,
                      "tokenizers": tokenizers.__version__}))


if __name__ == "__main__":
    main()
